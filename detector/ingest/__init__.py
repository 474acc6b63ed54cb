"""Ingest: bodies in every accepted form to validated, normalised records."""
