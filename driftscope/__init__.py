"""Driftscope: production monitoring and drift observability for ML models."""

__version__ = "0.1.0"
