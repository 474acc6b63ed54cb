"""The detection pipeline: event-time windows → features → clusters → scores → cases."""
