"""``driftscope simulate`` and ``driftscope evaluate``, added by :func:`register`.

``simulate SCENARIO`` runs the demo application on a scenario stream and produces its
predictions and delayed labels to the configured Kafka topic; ``simulate --list`` (or
``simulate list``) prints the scenarios and sources. ``evaluate`` runs the detection-quality
harness and prints (or writes) the Markdown report.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from driftscope.errors import ConfigError

from .effects import EXPECTED, INTENSITIES
from .scenarios import TEMPORALS, list_scenarios


def _list() -> None:
    from .sources import list_sources

    typer.echo("scenarios (TEMPORAL-KIND):")
    for name in list_scenarios():
        typer.echo(f"  {name}")
    typer.echo(f"temporal shapes: {', '.join(TEMPORALS)}")
    typer.echo("drift kinds:")
    for kind, text in EXPECTED.items():
        typer.echo(f"  {kind}: {text}")
    typer.echo(f"intensities: {', '.join(INTENSITIES)}")
    typer.echo(f"sources: {', '.join(list_sources())}")


def _onset(value: str) -> float | int:
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        raise ConfigError(
            f"--onset: expected a fraction like 0.5 or an event index, got {value!r}"
        ) from None


def _start(value: str, span_seconds: float, real_seconds: float) -> datetime:
    """``--start``: an ISO time (UTC when naive), ``now`` or ``ending-now``.

    ``ending-now``: the last event's time is the moment the stream finishes sending
    (``real_seconds`` from now), so no event is ever in the future.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    if value == "now":
        return now
    if value == "ending-now":
        return now + timedelta(seconds=real_seconds - span_seconds)
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--start: expected an ISO time, now or ending-now, got {value!r}") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def simulate(
    scenario: Annotated[str | None, typer.Argument(help="Scenario name; see --list.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List scenarios and sources.")] = False,
    rate: Annotated[float, typer.Option(help="Events per real second (0: no limit).")] = 100.0,
    duration: Annotated[str, typer.Option(help="Real duration: 60s, 5m, 1h.")] = "60s",
    events: Annotated[
        int | None, typer.Option(help="Events to send (default rate × duration).")
    ] = None,
    onset: Annotated[str, typer.Option(help="Drift onset: a fraction (0.5) or an index.")] = "0.5",
    intensity: Annotated[str, typer.Option(help="low, medium or high.")] = "medium",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same stream.")] = 0,
    source: Annotated[str, typer.Option(help="Data source; see --list.")] = "synthetic",
    model_id: Annotated[str, typer.Option(help="model_id of the events.")] = "demo",
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 3600.0,
    label_delay: Annotated[
        int, typer.Option(help="Events between a prediction and its label.")
    ] = 100,
    bootstrap: Annotated[str | None, typer.Option(help="Kafka servers (default: config).")] = None,
    start: Annotated[str, typer.Option(help=(
        "Simulated time of the first event: an ISO time, `now`, or `ending-now` (the last "
        "event's time is when sending ends, so a live dashboard's last hours show it)."))] = (
        "2026-01-01T00:00:00Z"),
    config: Annotated[Path | None, typer.Option("--config", "-c", help="driftscope.yaml.")] = None,
) -> None:
    """Run the demo application on SCENARIO and produce its events to Kafka."""
    if list_ or scenario == "list":
        _list()
        return
    if scenario is None:
        raise ConfigError("name a scenario, e.g. driftscope simulate gradual-covariate (--list)")
    from driftscope.client import PredictionLogger
    from driftscope.config import Secrets, kafka_client_options, load_config, parse_duration

    from .app import DemoApp
    from .scenarios import Clock, get_scenario

    sc = get_scenario(scenario).with_(source=source)
    n = events if events is not None else int(rate * parse_duration(duration).total_seconds())
    per_second = (rate or 1000 / 3600 * speed) / speed
    clock = Clock(start=_start(start, n / per_second, n / rate if rate else 0.0),
                  events_per_second=per_second)
    app = DemoApp(
        sc,
        model_id=model_id,
        intensity=intensity,
        onset=_onset(onset),
        seed=seed,
        clock=clock,
        label_delay=label_delay,
    )
    cfg = load_config(config)
    opts = kafka_client_options(cfg.kafka, Secrets.from_env())
    servers = bootstrap or opts.pop("bootstrap_servers")
    opts.pop("bootstrap_servers", None)
    typer.echo(f"{scenario} on {source}: {n} events at {rate or 'max'}/s to {cfg.kafka.topic}")
    with PredictionLogger(servers, topic=cfg.kafka.topic, client_options=opts) as logger:
        counts = app.run(logger, n, rate or None)
        logger.flush()
        lost = logger.stats.lost
    typer.echo(
        f"sent {counts.predictions} predictions ({counts.drifted} drifted), "
        f"{counts.feedback} labels; accuracy {counts.accuracy:.3f}; lost {lost}"
    )


def evaluate(
    detectors: Annotated[
        str, typer.Option(help="Comma-separated: default or registry names.")
    ] = "default",
    suite_name: Annotated[str, typer.Option("--suite", help="bar, full or quick.")] = "bar",
    sizes: Annotated[
        str, typer.Option(help="Window sizes, comma-separated.")
    ] = "100,500,1000,5000",
    trials: Annotated[int, typer.Option(help="Streams per scenario and size.")] = 5,
    source: Annotated[str, typer.Option(help="Data source.")] = "synthetic",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    span: Annotated[int, typer.Option(help="Gradual ramp length, in windows.")] = 4,
    period: Annotated[str, typer.Option(help="Cycle of periodic streams: 1d or 1w.")] = "1d",
    output: Annotated[Path | None, typer.Option(help="Write the report here.")] = None,
) -> None:
    """Measure power, delay and false alarms of detectors on the scenarios."""
    from rich.console import Console

    from .evaluate import EvalConfig, run_suite
    from .report import suite, temporary_summary, to_markdown

    try:
        size_t = tuple(int(s) for s in sizes.split(","))
    except ValueError:
        raise ConfigError(f"--sizes: expected numbers like 100,1000, got {sizes!r}") from None
    if period not in ("1d", "1w") or span < 1:
        raise ConfigError(f"--period: 1d or 1w, --span: at least 1; got {period!r}, {span}")
    cfg = EvalConfig(sizes=size_t, trials=trials, source=source, seed=seed,
                     gradual_span_windows=span,
                     period=timedelta(days=7 if period == "1w" else 1))
    drift, silent = suite(suite_name)
    console = Console(stderr=True)
    with console.status("evaluating") as status:
        results = run_suite(cfg, detectors.split(","), drift, silent, status.update)
    text = to_markdown(results, cfg) + "\n" + temporary_summary(results)
    if output:
        output.write_text(text)
    typer.echo(text)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and ``evaluate`` to the root CLI."""
    app.command("simulate")(simulate)
    app.command("evaluate")(evaluate)
