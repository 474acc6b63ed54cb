"""Enforcement out: the blocklist export and the signed, retried decision webhook."""
