"""`driftscope monitor`, `driftscope backfill` and `driftscope reference upload`."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from driftscope.cli_options import ConfigOption, command_group

if TYPE_CHECKING:
    from driftscope.monitor.scheduler import Monitor

log = logging.getLogger("driftscope.monitor")

EXAMPLE_TEXT = """\
models:
  - {id: churn, window: 1h}
monitors:
  - name: churn-drift
    model: churn
    features: [age, tenure_months, plan, country]
    outputs: [score]
    projections: [{name: usage, kind: mean, features: [sessions, minutes]}]
    detectors:                                 # the default:
      - name: emd
        on: numeric                            # all | numeric | categorical
        threshold: {policy: reference-quantile, q: 0.99}
      - name: linf
        on: categorical
        threshold: {policy: reference-quantile, q: 0.99}
    # reference kind: fixed | dataset | previous | seasonal | initial
    reference: {kind: previous, windows: 24}
    segments: [country]
    fdr: {method: bh, alpha: 0.01}             # bh | bonferroni | none
    quality: {missing_rate_max: 0.05, out_of_range_max: 0.05, volume_z: 6}
    performance: {task: classification, prediction: label, score: score,
                  metrics: [accuracy, f1, roc_auc]}
    rules: [{metric: accuracy, op: "<", value: 0.9}]
    band: {history: 24, k: 4}
    anomaly: {history: 48, z: 6}
alerts:
  console: true
  slack: true            # URL from DRIFTSCOPE_SLACK_WEBHOOK_URL
  grafana_url: http://localhost:3000
  min_windows: 2
  cooldown: 1h
  retrain:
    kafka: true          # to kafka.retrain_topic (driftscope.retrain)
    policies:
      - {name: sustained-drift, kind: drift_sustained, windows: 6}
      - name: accuracy-floor
        kind: performance_below
        metric: accuracy
        bound: 0.85
      - {name: weekly, kind: periodic, every: 7d}
"""



def _parse_time(value: str, option: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r}: expected an ISO time such as 2026-01-01T00:00Z",
            param_hint=option) from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def parse_duration_option(option: str, value: str) -> timedelta:
    """``value`` of CLI option ``option`` as a duration; a bad one is a usage error, and so
    is a number without its unit (``--for 2``: hours? seconds?)."""
    from driftscope.durations import parse_duration

    try:
        if value.strip().replace(".", "", 1).isdigit() and float(value) != 0:
            raise ValueError("give its unit, e.g. 30s, 15m, 2h or 1d")
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r}: {exc}", param_hint=option) from None


def _left_undone(runner: Monitor, what: str) -> None:
    """Say, a line per monitor, which windows a pass stopped at (their WARNINGs say why)
    and which monitors a configuration error kept from running, and exit 1 (2 for a
    configuration error): a script or a scheduler sees a pass that did not finish."""
    for name, start, left in runner.failed:
        typer.echo(f"monitor {name}: {left} window(s) from {start:%Y-%m-%d %H:%M} not "
                   f"{what} (a window failed: see the warning above); run it again", err=True)
    for name in runner.broken:
        done = runner.stopped.get(name, 0)
        said = f"{done} window(s) {what}, then stopped" if done else f"not {what}"
        typer.echo(f"monitor {name}: {said} (a configuration error: see the error above); "
                   f"fix it and run it again", err=True)
    if runner.broken:
        raise typer.Exit(2)
    if runner.failed:
        raise typer.Exit(1)


def monitor(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    interval: Annotated[float, typer.Option(
        min=0.5, help="Seconds between passes.")] = 30.0,
    settle: Annotated[str, typer.Option(help="Wait this long after a window closes.")] = "10s",
    deliver: Annotated[bool, typer.Option(
        help="Send the outbox after each pass. Use --no-deliver when `driftscope alerts run "
             "--follow` runs beside it (as in docker-compose): one dispatcher per outbox.",
    )] = True,
) -> None:
    from driftscope.alerts.channels import build_channels
    from driftscope.config import Secrets, load_config
    from driftscope.errors import StoreUnavailable
    from driftscope.monitor.detect import check_detectors
    from driftscope.monitor.scheduler import Monitor
    from driftscope.monitor.service import PassFailures, run_pass
    from driftscope.store.clickhouse import Store
    from driftscope.telemetry import beat, stopped

    settle_for = parse_duration_option("--settle", settle)
    cfg = load_config(config)
    secrets = Secrets.from_env()
    if deliver:
        build_channels(cfg, secrets)  # a missing webhook secret fails now, not after a pass
    check_detectors(cfg.monitors)  # (a configuration error before a missing store)
    # (an embedded store is the collector's: one that does not exist is the wrong working
    # directory or a forgotten -c, not a new empty store to watch for ever)
    store = Store.from_config(cfg.store, secrets).require_existing()
    store.migrate()
    _say_if_nothing_to_judge(cfg)
    kept = Monitor(store, cfg)  # across passes: its nulls serve the next windows
    failures = PassFailures("monitor")
    while True:
        try:
            verdicts, sent = run_pass(store, cfg, secrets, settle=settle_for, deliver=deliver,
                                      monitor=kept)
        except StoreUnavailable as exc:
            if once:
                raise
            log.warning("monitor pass skipped, the store is unavailable: %s", exc)
        except Exception as exc:
            if once:
                raise
            failures.failed(exc)
        else:
            failures.ok()
            bad = sum(v.bad for v in verdicts)
            log.info("monitor pass: %d windows, %d bad, %d sent, %d failed",
                     len(verdicts), bad, sent["sent"], sent["failed"])
            if not kept.broken:  # (`health monitor` goes stale while one is)
                beat("monitor", cfg.store.identity())
        if once:
            _left_undone(kept, "processed")
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            stopped("monitor", cfg.store.identity())
            return


def _say_if_nothing_to_judge(cfg: Any) -> None:
    """One warning where no monitor is configured (a forgotten ``-c``): the passes went on
    for ever, each "0 windows", as if all were well."""
    if not cfg.monitors:
        log.warning("no monitor is configured: nothing is judged (add a monitors: section "
                    "to the configuration, or pass -c driftscope.yaml; docs/monitor.md)")


monitor.__doc__ = (
    "Process every closed window with every monitor, exactly once; send alerts.\n\n"
    "Runs a pass every --interval seconds (or once). A complete configuration (copy "
    "examples/driftscope.yaml for the annotated version):\n\n\b\n"
    + EXAMPLE_TEXT  # \b: click keeps its lines as they are (help is plain text, no markup)
)


def backfill(
    since: Annotated[str, typer.Option(help="ISO start, e.g. 2026-01-01T00:00Z.")],
    until: Annotated[str, typer.Option(
        help="ISO end: windows ending after it are left as they are.")],
    config: ConfigOption = None,
    notify: Annotated[bool, typer.Option(help="Deliver alerts raised by the backfill.")] = False,
) -> None:
    """Reprocess the windows within [since, until) with the current configuration."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from driftscope.alerts.channels import build_channels, dispatcher
    from driftscope.alerts.engine import AlertEngine
    from driftscope.config import Secrets, load_config
    from driftscope.errors import ConfigError
    from driftscope.monitor.detect import check_detectors
    from driftscope.monitor.scheduler import Monitor
    from driftscope.store.clickhouse import Store

    a, b = _parse_time(since, "--since"), _parse_time(until, "--until")
    if a >= b:
        raise typer.BadParameter(f"{since} is not before --until {until}", param_hint="--since")
    cfg = load_config(config)
    secrets = Secrets.from_env()
    if notify:
        build_channels(cfg, secrets)  # a missing webhook secret fails before the backfill
    if not cfg.monitors:
        raise ConfigError("no monitor is configured: nothing to backfill (add a monitors: "
                          "section to the configuration, or pass -c driftscope.yaml)")
    check_detectors(cfg.monitors)  # (a configuration error before a missing store)
    store = Store.from_config(cfg.store, secrets).require_existing()
    store.migrate()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done)

        # without --notify the alerts' state is rebuilt and nothing is enqueued: neither
        # messages nor retraining; its alerts are recorded as not announced (as in a
        # silence), so the next live pass announces those still firing
        engine = (AlertEngine(store, cfg.alerts) if notify
                  else AlertEngine(store, cfg.alerts, channels=(), requests=False))
        runner = Monitor(store, cfg, alerts=engine)
        verdicts = runner.backfill(a, b, progress)
    typer.echo(f"backfilled {len(verdicts)} window(s), {sum(v.bad for v in verdicts)} bad")
    unsent = 0
    if notify:
        counts = dispatcher(store, cfg, secrets).run()
        typer.echo(f"delivered: sent {counts['sent']}, failed {counts['failed']}, "
                   f"skipped {counts['skipped']}, held {counts['held']}")
        unsent = counts["failed"]
    _left_undone(runner, "backfilled")
    if unsent:  # as `alerts run`: a script or a scheduler sees it
        raise typer.Exit(1)


reference_app = command_group(help="Reference datasets.", no_args_is_help=True)


@reference_app.command("upload")
def reference_upload(
    file: Annotated[Path, typer.Argument(help="A .parquet or .csv file, e.g. the training set.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model id.")],
    name: Annotated[str | None, typer.Option(help="Reference name (default: file stem).")] = None,
    outputs: Annotated[str, typer.Option(help="Comma-separated prediction columns.")] = "",
    segments: Annotated[str, typer.Option(help="Comma-separated segment columns.")] = "",
    na_values: Annotated[str, typer.Option(
        "--na-values", help="Comma-separated values that mean missing, e.g. '?,unknown'.")] = "",
    config: ConfigOption = None,
) -> None:
    """Upload a dataset; monitors use it with reference: {kind: dataset, dataset: NAME}."""
    from driftscope.config import Secrets, load_config
    from driftscope.errors import ConfigError
    from driftscope.monitor.upload import (
        check_columns,
        check_values,
        read_table,
        thin_columns,
        upload,
    )
    from driftscope.store.clickhouse import Store

    cfg = load_config(config)
    store = Store.from_config(cfg.store, Secrets.from_env())
    store.migrate()
    if name is not None and not name.strip():  # (it fell back to the file's stem, and
        # replaced the reference of that name)
        raise ConfigError("--name: empty; give the reference a name, or leave --name out "
                          f"for the file's ({file.stem!r})")
    ref = name or file.stem
    segs = [c for c in segments.split(",") if c]
    outs = [c for c in outputs.split(",") if c]
    nas = [v for v in na_values.split(",") if v]
    frame = read_table(file, text=[*segs, "label"], na_values=nas)
    if frame.empty:  # a header alone: an empty reference would compare with nothing
        raise ConfigError(f"{file}: no rows to upload (a reference needs at least one)")
    check_columns(cfg, store, model, ref, frame, outs, segs)  # a typo: one line, no upload
    try:
        check_values(frame, segs)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    for note in thin_columns(cfg, model, ref, frame):
        typer.echo(f"warning: {file}: {note}", err=True)
    try:
        n = upload(store, model, ref, frame, outputs=outs, segments=segs)
    except ConfigError as exc:  # a row's value (checked before anything is written)
        raise ConfigError(f"{file}: {exc}") from None
    typer.echo(f"uploaded {n} rows as reference {ref!r} of model {model!r}")


@reference_app.command("list")
def reference_list(
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model.")] = None,
    config: ConfigOption = None,
) -> None:
    """The uploaded references: model, name, rows, when, columns (the newest upload of each
    name: a name uploaded again replaces its rows)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from driftscope.config import Secrets, load_config
    from driftscope.store import schema as S
    from driftscope.store.clickhouse import Store

    cfg = load_config(config)
    store = Store.from_config(cfg.store, Secrets.from_env()).require_existing()
    store.migrate()
    R = S.REFERENCES
    rows = store.query(
        f"SELECT {R.model_id}, {R.name}, argMax({R.n_rows}, {R.created_at}), "
        f"max({R.created_at}), argMax({R.spec}, {R.created_at}) FROM {R} "
        f"WHERE {R.kind} = 'dataset' AND ({{m:String}} = '' OR {R.model_id} = {{m:String}}) "
        f"GROUP BY {R.model_id}, {R.name} ORDER BY {R.model_id}, {R.name}", {"m": model or ""})
    if not rows:
        which = f" of model {model}" if model else ""
        typer.echo(f"no references{which} in {store.where}; `driftscope reference upload` "
                   "adds one")
        return
    table = Table(title=None)
    for name in ("model", "name", "rows", "uploaded (UTC)", "columns"):
        table.add_column(name, overflow="fold")
    for model_id, name, n, at, spec in rows:
        columns = json.loads(spec or "{}").get("columns", [])
        table.add_row(model_id, name, str(n), f"{at:%Y-%m-%d %H:%M}", ", ".join(columns))
    Console(width=None if sys.stdout.isatty() else 10_000).print(table)


def register(app: typer.Typer) -> None:
    """Add `monitor`, `backfill` and `reference` to the root CLI."""
    app.command("monitor")(monitor)
    app.command("backfill")(backfill)
    app.add_typer(reference_app, name="reference")
