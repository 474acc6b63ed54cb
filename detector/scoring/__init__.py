"""Cluster scoring: feature vectors, explicit signatures, an online anomaly model."""
