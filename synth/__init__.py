"""Synthetic traffic: the three disclosed campaigns inside realistic honest traffic."""
