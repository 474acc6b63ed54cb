"""Persistence: SQLAlchemy 2 models and keyword-only repository functions.

Repository functions never commit; the caller owns the unit of work.
"""
