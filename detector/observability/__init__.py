"""Operating the service: Prometheus metrics, JSON logs, request ids."""
