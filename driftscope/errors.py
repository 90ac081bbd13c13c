"""One exception tree for Driftscope.

Every error a user can cause ends in one line that says what to fix. Each class
also subclasses the built-in exception a caller would naturally catch::

    DriftscopeError (Exception)
    ├── ConfigError (ValueError)          invalid driftscope.yaml or environment
    ├── EventError (ValueError)           an event that fails the wire schema; has .reason
    ├── RegistryError (KeyError)          unknown or duplicate registry name
    ├── DetectorInputError (ValueError)   data a detector cannot score (empty, mismatched)
    ├── StoreError (RuntimeError)         a ClickHouse statement failed
    │   └── StoreUnavailable (ConnectionError)   the store cannot be reached
    ├── BrokerError (RuntimeError)        the Kafka broker cannot be started or reached
    └── NotifierError (RuntimeError)      a notifier could not deliver (no secret in the text)
"""

from __future__ import annotations


class DriftscopeError(Exception):
    """Base of every error raised on purpose by Driftscope."""


class ConfigError(DriftscopeError, ValueError):
    """The configuration file or an environment override is invalid."""


class EventError(DriftscopeError, ValueError):
    """An event that does not satisfy the wire schema.

    ``reason`` is a short machine-readable code (``malformed_json``, ``schema``,
    ``not_utf8``, ``oversized``, ``non_finite``, ``unknown_model``, ``type_change``)
    stored with the dead letter; the message is the one-line human explanation.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RegistryError(DriftscopeError, KeyError):
    """An unknown or duplicate name in a registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DetectorInputError(DriftscopeError, ValueError):
    """Data a detector cannot score: empty, mismatched columns or kinds."""


class StoreError(DriftscopeError, RuntimeError):
    """A statement against the store failed."""


class StoreUnavailable(StoreError, ConnectionError):
    """The store cannot be reached; callers retry with backoff."""


class BrokerError(DriftscopeError, RuntimeError):
    """The Kafka broker cannot be started or reached."""


class NotifierError(DriftscopeError, RuntimeError):
    """A notifier could not deliver an alert. Never contains a secret URL."""
