"""Retrain-request sinks: a Kafka topic (keyed by request id) and a configured command."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from driftscope.alerts.notifiers.webhook import strict_json
from driftscope.errors import NotifierError


class KafkaNotifier:
    """Publish the payload as JSON to a topic, with the idempotency key as message key."""

    name = "kafka"

    def __init__(self, topic: str, client_options: Mapping[str, Any], timeout: float = 10.0):
        self.topic = topic
        self.options = dict(client_options)
        self.timeout = timeout
        self._producer: Any = None

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        try:
            if self._producer is None:
                self._producer = KafkaProducer(**self.options, acks="all")
            body = strict_json({**payload, "idempotency_key": key}).encode()
            self._producer.send(self.topic, key=key.encode(), value=body).get(self.timeout)
        except KafkaError as exc:
            raise NotifierError(f"kafka topic {self.topic}: {type(exc).__name__}") from None

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None


class CommandNotifier:
    """Run a command with the request as JSON on stdin (and the key as its last argument)."""

    name = "command"

    def __init__(self, argv: Sequence[str], timeout: float = 60.0) -> None:
        self.argv = list(argv)
        self.timeout = timeout

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        body = strict_json({**payload, "idempotency_key": key})
        try:
            done = subprocess.run([*self.argv, key], input=body, text=True, capture_output=True,
                                  timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NotifierError(f"retrain command failed: {type(exc).__name__}") from None
        if done.returncode != 0:
            raise NotifierError(f"retrain command exited {done.returncode}")
