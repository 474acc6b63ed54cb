"""Detects distillation attacks and API abuse in LLM API logs."""

__version__ = "0.1.0"
