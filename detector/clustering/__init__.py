"""Account clustering: linkage by shared infrastructure, stable cluster identity."""
