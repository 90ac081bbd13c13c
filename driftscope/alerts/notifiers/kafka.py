"""Retrain-request sinks: a Kafka topic (keyed by request id) and a configured command."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from driftscope.alerts.notifiers.http import redact_urls
from driftscope.alerts.notifiers.webhook import strict_json
from driftscope.errors import NotifierError

log = logging.getLogger("driftscope.alerts")
_SECRET = re.compile(
    r"""(?ix)\b(token|password|passwd|secret|api[_-]?key|authorization)["']?\s*[=:]\s*["']?
    (?:(?:bearer|basic|token)\s+)?[^\s,;"']+["']?
    |\b(bearer|basic)\s+(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}""")
"""A credential in a line of a command's stderr: ``key=value`` or ``key: value`` (quoted
too, as JSON writes it: ``"api_key": "…"``), an ``Authorization`` header's value, and a
bare ``Bearer …`` token — one with a digit or a sign in it, not a word ("basic
authentication failed" stays; found in review: these came through unredacted)."""


def _redact(line: str) -> str:
    """``line`` with its credentials (:data:`_SECRET`) replaced by ``<redacted>``."""
    return _SECRET.sub(lambda m: f"{m.group(1) or m.group(2)}=<redacted>", line)


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
                # (a send waits for the topic's metadata up to max_block_ms, by kafka-
                # python's default 60 s past this notifier's timeout: the broker gone or
                # the topic missing held the dispatcher's loop a minute a message)
                self._producer = KafkaProducer(**{
                    "max_block_ms": int(self.timeout * 1000), **self.options, "acks": "all"})
            body = strict_json({**payload, "idempotency_key": key}).encode()
            self._producer.send(self.topic, key=key.encode(), value=body).get(self.timeout)
        except KafkaError as exc:
            raise NotifierError(f"kafka topic {self.topic}: {type(exc).__name__}") from None

    def close(self) -> None:
        """Close the producer; a request it could not deliver (the broker gone) is not
        lost — the outbox holds it until a send succeeded — so a flush that times out is
        said, not raised (it was a traceback at the dispatcher's exit)."""
        from kafka.errors import KafkaError

        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                producer.close(timeout=5)
            except KafkaError as exc:
                log.warning("kafka topic %s: closed with requests undelivered (%s); the "
                            "outbox sends them again", self.topic, type(exc).__name__)


class CommandNotifier:
    """Run a command with the request as JSON on stdin (and the key as its last argument).

    The command runs in a session of its own: past ``timeout`` seconds the whole process
    group is killed (a training it started in the background too), so a retry never runs
    beside the attempt before it. A failure's error ends with the last line of stderr.
    """

    name = "command"

    def __init__(self, argv: Sequence[str], timeout: float = 60.0) -> None:
        self.argv = list(argv)
        self.timeout = timeout

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        body = strict_json({**payload, "idempotency_key": key})
        try:
            proc = subprocess.Popen([*self.argv, key], stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True, start_new_session=True)
        except OSError as exc:
            raise NotifierError(f"retrain command failed to start: {type(exc).__name__}: "
                                f"{exc.strerror or exc}") from None
        try:
            _, err = proc.communicate(body, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise NotifierError(f"retrain command timed out after {self.timeout:g}s and was "
                                "killed with its process group") from None
        except BaseException:
            _kill_group(proc)
            raise
        if proc.returncode != 0:
            raise NotifierError(f"retrain command exited {proc.returncode}{_last_line(err)}")


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the command's process group (its session: it leads it), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:  # a process that left the session holds a pipe
        proc.kill()
        proc.wait()


def _last_line(stderr: str | None, width: int = 200) -> str:
    """``: <the last non-empty line of stderr>``, URLs cut to their host, at most ``width``."""
    lines = [x.strip() for x in (stderr or "").splitlines() if x.strip()]
    if not lines:
        return ""
    line = _redact(redact_urls(lines[-1]))
    return ": " + (line if len(line) <= width else line[: width - 1] + "…")
