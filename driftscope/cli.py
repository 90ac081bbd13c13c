"""The ``driftscope`` command.

Each component adds its own commands through a ``register(app)`` function in its
``commands`` module; this file wires them together and handles errors: an error a user
can cause prints one line and exits 2, never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from driftscope import __version__
from driftscope.cli_options import ConfigOption, command_group
from driftscope.errors import DriftscopeError
from driftscope.logs import OncePerInterval

app = command_group(
    name="driftscope",
    help="Production monitoring and drift observability for ML models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)



@app.callback()
def _root(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug lines.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # kafka-python is chatty at INFO (every connection) and warns about its own event loop;
    # a broker that does not answer is an ERROR per attempt: one a minute says as much
    logging.getLogger("kafka").setLevel(logging.INFO if verbose else logging.ERROR)
    # the store's HTTP client warns of each failed attempt (urllib3's retry, the driver's
    # "Unexpected Http Driver Exception") before driftscope's own line says it in words
    # (urllib3's pool by name: clickhouse_connect sets urllib3's own level as it loads)
    for name in ("urllib3.connectionpool", "clickhouse_connect"):
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.ERROR)
    for handler in logging.getLogger().handlers:  # (a logger's filter misses its children)
        if not verbose and not any(isinstance(f, OncePerInterval) for f in handler.filters):
            handler.addFilter(OncePerInterval(60.0, prefix="kafka"))


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def health(
    service: Annotated[str, typer.Argument(help="monitor or alerts.")],
    max_age: Annotated[str, typer.Option(
        help="Healthy if it beat within this long (alerts: and no message waits longer)."
    )] = "5m",
    config: ConfigOption = None,
) -> None:
    """Exit 0 when SERVICE finished a pass over this configuration's store recently, and,
    for alerts, no message to a configured channel has waited longer than --max-age to be
    delivered (a receiver down or refusing: its last error is shown).

    Each pass writes a heartbeat file per store (its DSN, made absolute, and database) in
    DRIFTSCOPE_HEARTBEAT_DIR (default: driftscope-heartbeats in the temporary directory):
    a service of another store on the machine does not answer for this one.
    """
    import time

    from driftscope.alerts.health import overdue
    from driftscope.config import load_config
    from driftscope.durations import parse_duration
    from driftscope.errors import ConfigError
    from driftscope.telemetry import STOPPED, heartbeat

    if service not in ("monitor", "alerts"):
        raise ConfigError(f"health {service!r}: expected monitor or alerts")
    try:
        limit = parse_duration(max_age).total_seconds()
    except ValueError:
        raise ConfigError(
            f"--max-age: expected a duration such as 30s, 5m or 1h, got {max_age!r}") from None
    store = load_config(config).store
    beat = heartbeat(service, store.identity())
    where = f"{store.resolved_dsn()} (database {store.database})"
    if beat is None:
        raise DriftscopeError(f"{service}: no healthy pass yet over {where}")
    if STOPPED in beat.detail:
        raise DriftscopeError(f"{service}: stopped {beat.age:.0f} s ago (a clean stop) over "
                              f"{where}")
    if beat.age > limit:
        raise DriftscopeError(f"{service}: last healthy pass over {where} {beat.age:.0f} s ago "
                              f"(limit {max_age})")
    late = overdue(beat.detail, limit, time.time())
    if late:
        raise DriftscopeError(f"{service}: messages wait longer than {max_age}: {late} "
                              "(`driftscope alerts outbox` lists them)")
    typer.echo(f"{service}: last healthy pass {beat.age:.0f} s ago")


@app.command()
def broker(
    port: Annotated[int | None, typer.Option(
        min=1, max=65535,
        help="Port on 127.0.0.1 (default: that of a loopback kafka.bootstrap_servers, "
             "else 9092).")] = None,
    partitions: Annotated[int | None, typer.Option(
        min=1, max=1024,  # as kafka.partitions
        help="Partitions of the topics created (default: kafka.partitions).")] = None,
    config: ConfigOption = None,
) -> None:
    """Run the local Kafka-compatible broker (Tansu, memory only) until Ctrl-C or SIGTERM.

    Exits 2 with one line when the port is taken or the broker stops by itself.
    """
    import signal

    from driftscope.broker import HOLDS_EVERYTHING, LocalBroker, ensure_topics
    from driftscope.config import load_config
    from driftscope.errors import BrokerError

    class _Stop(Exception):
        pass

    def _on_signal(signum: int, _frame: object) -> None:
        raise _Stop(signal.Signals(signum).name)

    from driftscope.errors import ConfigError
    from driftscope.serve import broker_address

    cfg = load_config(config)
    if port is None:
        try:
            port = broker_address(cfg)[1]
        except ConfigError:  # the configuration names another Kafka: the usual port
            port = 9092
    if partitions is None:
        partitions = cfg.kafka.partitions
    # a SIGTERM or SIGHUP (service managers, a closed terminal) stops the broker with us:
    # it runs in a session of its own and would otherwise outlive us, holding the port
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGHUP)
                if signal.getsignal(s) is not signal.SIG_IGN}  # nohup: SIGHUP stays ignored
    b = LocalBroker(port=port)
    try:
        b.start()
        topics = [cfg.kafka.topic, cfg.kafka.dead_letter_topic, cfg.kafka.retrain_topic]
        ensure_topics(b.bootstrap, topics, partitions=partitions)
        console.print(f"broker on {b.bootstrap}; topics {', '.join(topics)}; Ctrl-C stops it",
                      highlight=False, soft_wrap=True)
        console.print(f"note: {HOLDS_EVERYTHING}", highlight=False, soft_wrap=True)
        code = b.wait()
        raise BrokerError(f"the broker on {b.bootstrap} exited by itself (exit code {code})")
    except KeyboardInterrupt:
        console.print("stopping the broker")
    except _Stop as stop:
        console.print(f"{stop}: stopping the broker")
    finally:
        for s in previous:  # a second signal must not interrupt the stopping
            signal.signal(s, signal.SIG_IGN)
        b.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)


@app.command()
def migrate(
    config: ConfigOption = None,
    wait: Annotated[str, typer.Option(help=(
        "Wait up to this long for a store that does not answer yet (a server still "
        "starting: docker-compose.yml gives 2m); 0s: fail at once."))] = "0s",
) -> None:
    """Create or upgrade the store's tables."""
    from driftscope.config import Secrets, load_config
    from driftscope.errors import StoreUnavailable
    from driftscope.monitor.commands import parse_duration_option
    from driftscope.store.clickhouse import Store
    from driftscope.store.retention import describe

    cfg = load_config(config)
    deadline = time.monotonic() + parse_duration_option("--wait", wait).total_seconds()
    while True:
        try:
            store = Store.from_config(cfg.store, Secrets.from_env())
            applied = store.migrate()
            break
        except StoreUnavailable as exc:  # (ClickHouse's first start runs a server on
            if time.monotonic() >= deadline:  # loopback for its init scripts, then its own)
                raise
            logging.getLogger("driftscope.migrate").info(
                "migrate: the store does not answer yet (%s); trying again", exc)
            time.sleep(1.0)
    typer.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none needed'}")
    typer.echo(describe(cfg.store.retention, store.retention_changes))


@app.command()
def serve(
    config: ConfigOption = None,
    broker: Annotated[bool, typer.Option(
        "--broker", help="Also run the embedded broker (Tansu, memory only) on the configured "
                         "loopback kafka.bootstrap_servers.")] = False,
    interval: Annotated[float, typer.Option(
        min=0.5, help="Seconds between monitor passes.")] = 30.0,
    settle: Annotated[str, typer.Option(help="Wait this long after a window closes.")] = "10s",
    metrics_port: Annotated[int | None, typer.Option(
        help="Serve the collector's /metrics on 127.0.0.1:PORT (default: "
             "collector.metrics_port).")] = None,
    store_port: Annotated[int, typer.Option(
        min=0, max=65535,
        help="Serve an embedded store on ClickHouse's HTTP interface at 127.0.0.1:PORT, "
             "for the other driftscope commands and Grafana (0: any free port).")] = 8123,
    store_http: Annotated[bool, typer.Option(
        "--store-http/--no-store-http",
        help="Serve an embedded store over HTTP at all (--store-port).")] = True,
) -> None:
    """Collect, monitor and alert in one process, until Ctrl-C or SIGTERM.

    For the embedded store (chDB), which one process opens at a time: without `serve`,
    `collect` and `monitor` cannot run beside each other on it; `serve` runs both, and serves
    the store on 127.0.0.1:8123 (ClickHouse's HTTP interface): the other commands (`alerts`,
    `report`, `backfill`, `monitor --once`, even `collect` or `monitor`) run beside it through
    that port, and a Grafana on this machine reads it. With --broker it also runs the local
    broker, so one command is the whole service on one machine.
    """
    import signal
    import threading

    from driftscope.config import Secrets, load_config
    from driftscope.monitor.commands import parse_duration_option
    from driftscope.serve import serve as run

    settle_for = parse_duration_option("--settle", settle)
    cfg = load_config(config)
    stop = threading.Event()
    # signals ignored when we started (nohup, a background job) stay ignored
    handled = [s for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
               if signal.getsignal(s) is not signal.SIG_IGN]

    running = threading.Event()

    class _Startup(BaseException):  # not an Exception: no client's retry loop swallows it
        pass

    def _stop(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        for s in handled:  # a second signal is not waited for
            signal.signal(s, signal.SIG_DFL)
        if not running.is_set():  # still starting (a Kafka that does not answer): unwind
            raise _Startup(name)
        logging.getLogger("driftscope.serve").info(
            "serve: %s received; flushing and stopping (again: stop at once)", name)
        stop.set()

    for s in handled:
        signal.signal(s, _stop)
    try:
        run(cfg, Secrets.from_env(), stop, broker=broker, interval=interval,
            settle=settle_for, metrics_port=metrics_port,
            store_port=store_port if store_http else None,
            ready=running.set)
    except _Startup as signalled:
        console.print(f"{signalled}: stopped while starting", highlight=False)


@app.command()
def demo(
    windows: Annotated[int, typer.Option(help="Closed windows to simulate.")] = 24,
    events_per_window: Annotated[int, typer.Option(help="Events per window.")] = 1000,
    intensity: Annotated[str, typer.Option(help="Drift intensity: low, medium, high.")] = "medium",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    data_dir: Annotated[Path, typer.Option(help="Where the embedded store lives.")] = Path(
        ".driftscope"
    ),
    short: Annotated[bool, typer.Option(help="A small, fast run (for tests).")] = False,
) -> None:
    """Run the whole system on the embedded default and detect a simulated drift.

    broker → a simulated app (gradual covariate drift from the midpoint) → Kafka →
    collector → chDB → monitor → console alerts, then a summary table.
    """
    from driftscope.demo import DemoSettings, print_summary, run_demo

    if short:
        windows, events_per_window = min(windows, 12), min(events_per_window, 500)
    settings = DemoSettings(
        windows=windows,
        events_per_window=events_per_window,
        intensity=intensity,
        seed=seed,
        data_dir=data_dir,
    )
    out = Console()
    try:
        s = run_demo(settings, say=lambda line: out.print(line, highlight=False, soft_wrap=True))
    except KeyboardInterrupt:  # (it stopped without a word: the partial run was not told)
        typer.echo(f"interrupted: database {settings.database} at "
                   f"chdb://{(data_dir / 'db').resolve()} holds a partial run; "
                   "`driftscope demo` starts it afresh", err=True)
        raise typer.Exit(130) from None
    print_summary(s, out)
    out.print(
        "The other commands use the database `driftscope`; to point them at the demo's "
        "data (the demo empties its own database `demo` at each run):",
        highlight=False, soft_wrap=True,  # (wrapped by rich, a line ended in a space)
    )
    for line in s.follow_up():
        out.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    if not s.detected or s.alerts_before_onset:
        raise typer.Exit(1)


def _register_components() -> None:
    from driftscope.alerts import commands as alert_commands
    from driftscope.collector import commands as collector_commands
    from driftscope.dashboards import commands as dashboard_commands
    from driftscope.monitor import commands as monitor_commands
    from driftscope.simulators import commands as simulator_commands

    for module in (
        collector_commands,
        monitor_commands,
        alert_commands,
        simulator_commands,
        dashboard_commands,
    ):
        module.register(app)


_register_components()


def main() -> None:
    """Entry point: one line for a user's error, exit code 2."""
    # whylogs phones home for usage statistics unless told not to; a monitor must not
    os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")
    try:
        app()
    except DriftscopeError as exc:
        # one line, however long: never wrapped, never read as markup
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
