"""``driftscope simulate`` and ``driftscope evaluate``, added by :func:`register`.

``simulate SCENARIO`` runs the demo application on a scenario stream and produces its
predictions and delayed labels to the configured Kafka topic; ``simulate --list`` (or
``simulate list``) prints the scenarios and sources. ``evaluate`` runs the detection-quality
harness and prints (or writes) the Markdown report.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from driftscope.cli_options import check_writable
from driftscope.errors import ConfigError, DriftscopeError

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


def _onset(value: str, option: str = "--onset", what: str = "an event index") -> float | int:
    """A fraction of the stream (``0.5``) or a number of events (``500``)."""
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        raise ConfigError(
            f"{option}: expected a fraction like 0.5 or {what}, got {value!r}"
        ) from None


SHAPE_OPTIONS = {"--span": "gradual", "--burst": "temporary", "--period": "periodic"}
"""The option that shapes each temporal kind's drift, and the kind it shapes."""


def _shaped(scenario: str, span: str | None, burst: str | None,
            period: str | None) -> dict[str, Any]:
    """The scenario fields ``--span``, ``--burst`` and ``--period`` set. One given to a
    scenario of another shape is refused (it would change nothing, and say nothing)."""
    from .scenarios import get_scenario

    temporal = get_scenario(scenario).temporal
    given = {"--span": span, "--burst": burst, "--period": period}
    for option, value in given.items():
        if value is not None and SHAPE_OPTIONS[option] != temporal:
            shape = "of no drift" if temporal == "none" else temporal
            raise ConfigError(f"{option} shapes {SHAPE_OPTIONS[option]} scenarios; "
                              f"{scenario} is {shape}: leave {option} out")
    fields: dict[str, Any] = {}
    if span is not None:
        fields["span"] = _onset(span, "--span", "a number of events")
        if fields["span"] <= 0:
            raise ConfigError(f"--span: the ramp must last at least one event, got {span!r}")
    if burst is not None:
        fields["burst"] = _onset(burst, "--burst", "a number of events")
        if fields["burst"] <= 0:
            raise ConfigError(f"--burst: the burst must last at least one event, got {burst!r}")
    if period is not None:
        fields["period"] = timedelta(seconds=_duration("--period", period))
    return fields


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


def _duration(option: str, value: str) -> float:
    from driftscope.durations import parse_duration

    try:
        seconds = parse_duration(value).total_seconds()
    except ValueError:
        raise ConfigError(
            f"{option}: expected a duration such as 30s, 5m or 1h, got {value!r}") from None
    if seconds <= 0:
        raise ConfigError(f"{option}: must be more than 0, got {value!r}")
    return seconds


def _at_least(option: str, value: float, low: float) -> None:
    if not (value >= low and math.isfinite(value)):  # also refuses NaN and infinity
        raise ConfigError(f"{option}: must be a number of at least {low:g}, got {value:g}")


def stream_bytes(columns: int) -> int:
    """The memory one event of a stream of ``columns`` features takes while the stream is
    built (measured with benchmarks' own method, ru_maxrss over 200,000 to 1,000,000
    events: 482 B with the synthetic source's 8, 882 B with breast_cancer's 30, 1,692 B
    with digits' 64), with a tenth more."""
    return int(1.1 * (310 + 22 * columns))


def available_memory() -> int | None:
    """The bytes this machine can still give a process (``MemAvailable``), None where it
    does not say."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _too_many(n: int, need: int, have: int | None) -> str:
    free = f", and {have / 2**30:.1f} GiB is available" if have is not None else ""
    return (f"{n:,} events: the stream is built in memory before it is sent, about "
            f"{need / 2**30:.1f} GiB{free}; send fewer per run (--events, or --rate × "
            "--duration), and continue the clock with --start")


def simulate(
    scenario: Annotated[str | None, typer.Argument(help="Scenario name; see --list.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List scenarios and sources.")] = False,
    rate: Annotated[float, typer.Option(help=(
        "Events per real second; 0: as fast as Kafka takes them (needs --events)."))] = 100.0,
    duration: Annotated[str, typer.Option(help="Real duration: 60s, 5m, 1h.")] = "60s",
    events: Annotated[
        int | None, typer.Option(help="Events to send (default rate × duration).")
    ] = None,
    onset: Annotated[str, typer.Option(help="Drift onset: a fraction (0.5) or an index.")] = "0.5",
    span: Annotated[str | None, typer.Option(help=(
        "gradual: the ramp's length, a fraction of the stream or events (default 0.2)."))] = None,
    burst: Annotated[str | None, typer.Option(help=(
        "temporary: the burst's length, a fraction or events (default 1000)."))] = None,
    period: Annotated[str | None, typer.Option(help=(
        "periodic: the cycle in simulated time, 1d or 1w (default 1d)."))] = None,
    intensity: Annotated[str, typer.Option(help="low, medium or high.")] = "medium",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same stream.")] = 0,
    source: Annotated[str, typer.Option(help="Data source; see --list.")] = "synthetic",
    model_id: Annotated[str, typer.Option(help="model_id of the events.")] = "demo",
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 3600.0,
    label_delay: Annotated[
        int, typer.Option(help="Events between a prediction and its label.")
    ] = 100,
    canary: Annotated[float, typer.Option(help=(
        "From the onset, a new model version (2) serves this share of the events, with a "
        "bug (--canary-bug): its accuracy falls (0: none)."))] = 0.0,
    canary_bug: Annotated[str, typer.Option(help=(
        "The canary's bug: pipeline (inside its model; it logs the same inputs) or units "
        "(it sends and logs its numeric inputs in hundredths)."))] = "pipeline",
    bootstrap: Annotated[str | None, typer.Option(help="Kafka servers (default: config).")] = None,
    start: Annotated[str, typer.Option(help=(
        "Simulated time of the first event: an ISO time, `now`, or `ending-now` (the last "
        "event's time is when sending ends, so a live dashboard's last hours show it)."))] = (
        "2026-01-01T00:00:00Z"),
    config: Annotated[Path | None, typer.Option("--config", "-c", help="driftscope.yaml.")] = None,
) -> None:
    """Run the demo application on SCENARIO and produce its events to Kafka.

    Every event is delivered: at full speed the sender waits for Kafka rather than drop.
    """
    if list_ or scenario == "list":
        _list()
        return
    if scenario is None:
        raise ConfigError("name a scenario, e.g. driftscope simulate gradual-covariate (--list)")
    from driftscope.config import Secrets, kafka_client_options, load_config

    from .app import CANARY_BUGS, DemoApp
    from .delivery import Interrupted, deliver
    from .scenarios import Clock, _resolve, get_scenario

    # every option is checked, and the stream built, before anything connects to Kafka
    if not 1 <= len(model_id) <= 200:  # as events require: else every one is invalid
        raise ConfigError(f"--model-id: expected 1 to 200 characters, got {model_id!r}")
    _at_least("--rate", rate, 0)
    seconds = _duration("--duration", duration)
    if not (speed > 0 and math.isfinite(speed)):
        raise ConfigError(f"--speed: must be more than 0 (simulated s per real s), got {speed:g}")
    _at_least("--label-delay", label_delay, 0)
    _at_least("--seed", seed, 0)
    if not (0.0 <= canary <= 1.0):  # (NaN too)
        raise ConfigError(f"--canary: a share of the events in [0, 1], got {canary:g}")
    if canary_bug not in CANARY_BUGS:
        raise ConfigError(f"--canary-bug: one of {', '.join(CANARY_BUGS)}, got {canary_bug!r}")
    if canary_bug != CANARY_BUGS[0] and not canary:
        raise ConfigError(f"--canary-bug {canary_bug}: there is no canary; set --canary SHARE")
    if intensity not in INTENSITIES:  # no-drift alone would not look at it
        raise ConfigError(f"unknown intensity {intensity!r}; valid: {', '.join(INTENSITIES)}")
    if events is not None:
        _at_least("--events", events, 1)
        n = events
    elif rate == 0:
        raise ConfigError("--rate 0 sends as fast as it can: say how many with --events N")
    else:
        n = int(rate * seconds)
        if n < 1:
            raise ConfigError(
                f"--rate {rate:g} for --duration {duration} makes no events; "
                "raise either, or set --events")
    per_second = (rate or 1000 / 3600 * speed) / speed
    clock = Clock(start=_start(start, n / per_second, n / rate if rate else 0.0),
                  events_per_second=per_second)
    sc = get_scenario(scenario).with_(source=source, **_shaped(scenario, span, burst, period))
    at = _onset(onset)
    # n is always known here (--events, or --rate × --duration): the whole stream is
    # built before sending, so its drift can be checked to fit in it
    sc.check_fits(n, at)
    if canary and _resolve(at, n, "onset") >= n:
        raise ConfigError(f"--canary: the onset {onset} is past the stream's last event "
                          f"(0 to {n - 1}): the canary would serve none; set an earlier "
                          "--onset")
    app = DemoApp(
        sc,
        model_id=model_id,
        intensity=intensity,
        onset=at,
        seed=seed,
        clock=clock,
        label_delay=label_delay,
        canary=canary,
        canary_bug=canary_bug,
    ).fit()
    columns = len(app.reference_batch().features)
    need, have = n * stream_bytes(columns), available_memory()
    if have is not None and need > have:
        raise ConfigError(_too_many(n, need, have))
    try:
        stream = app.stream(n)
    except MemoryError:  # (the estimate fell short: one line all the same)
        raise ConfigError(_too_many(n, need, have)) from None
    cfg = load_config(config)
    opts = kafka_client_options(cfg.kafka, Secrets.from_env())
    servers = bootstrap or opts.pop("bootstrap_servers")
    opts.pop("bootstrap_servers", None)
    pace = f"{rate:g}/s" if rate else "as fast as Kafka takes them"
    typer.echo(f"{scenario} on {source}: {n} predictions and their labels, {pace}, to "
               f"{cfg.kafka.topic}")
    try:
        out = deliver(app, n, servers, topic=cfg.kafka.topic, rate=rate or None, stream=stream,
                      client_options=opts)
    except Interrupted as stop:  # (a script sees exit code 130, a person what went out)
        typer.echo(f"interrupted: Kafka acknowledged {stop.stats.sent} of the "
                   f"{stop.stats.queued} events sent to {cfg.kafka.topic} so far", err=True)
        raise typer.Exit(130) from None
    c = out.counts
    invalid = f"; {c.invalid} invalid, not sent" if c.invalid else ""
    served = (f" ({c.canary} by version {app.canary_version}, accuracy "
              f"{c.canary_accuracy:.3f})" if canary else "")
    typer.echo(
        f"delivered {c.predictions} predictions ({c.drifted} drifted){served} and "
        f"{c.feedback} labels to {cfg.kafka.topic}; accuracy {c.accuracy:.3f}; "
        f"lost {out.stats.failed + out.stats.dropped}{invalid}"
    )
    if not out.delivered:  # a script must not take "nothing sent" for success
        raise DriftscopeError(f"no event was delivered to {cfg.kafka.topic}"
                              + (f": {c.invalid} predictions were invalid" if c.invalid else ""))


def evaluate(
    detectors: Annotated[
        str, typer.Option(help="Comma-separated: default or registry names.")
    ] = "default",
    suite_name: Annotated[
        str, typer.Option("--suite", help="bar, full, silent or quick.")
    ] = "bar",
    sizes: Annotated[
        str, typer.Option(help="Window sizes, comma-separated.")
    ] = "100,500,1000,5000",
    trials: Annotated[int, typer.Option(help="Streams per scenario and size.")] = 5,
    source: Annotated[str, typer.Option(help="Data source.")] = "synthetic",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    span: Annotated[int, typer.Option(help="Gradual ramp length, in windows.")] = 4,
    period: Annotated[str, typer.Option(help="Cycle of periodic streams: 1d or 1w.")] = "1d",
    phase: Annotated[str, typer.Option(
        help="Where in its window each onset or burst falls: start (on the window grid) "
             "or random (uniform within it, as in production).")] = "start",
    output: Annotated[Path | None, typer.Option(
        "--output", "--out", help="Write the report here.")] = None,  # (report's: --out)
) -> None:
    """Measure power, delay and false alarms of detectors on the scenarios."""
    from rich.console import Console

    from .evaluate import PHASES, EvalConfig, detector_names, run_suite
    from .report import SUITES, suite, temporary_summary, to_markdown

    names = detector_names(detectors)
    if suite_name not in SUITES:
        raise ConfigError(f"--suite: one of {', '.join(SUITES)}; got {suite_name!r}")
    try:
        size_t = tuple(int(s) for s in sizes.split(","))
    except ValueError:
        raise ConfigError(f"--sizes: expected numbers like 100,1000, got {sizes!r}") from None
    if min(size_t) < 1:
        raise ConfigError(f"--sizes: every window size must be at least 1, got {sizes!r}")
    _at_least("--trials", trials, 1)
    _at_least("--seed", seed, 0)
    if period not in ("1d", "1w"):
        raise ConfigError(f"--period: 1d or 1w, got {period!r}")
    _at_least("--span", span, 1)
    if phase not in PHASES:
        raise ConfigError(f"--phase: {' or '.join(PHASES)}; got {phase!r}")
    if output:  # now, not after the run: a result is never computed for nothing
        check_writable(output, "--output")
    cfg = EvalConfig(sizes=size_t, trials=trials, source=source, seed=seed,
                     gradual_span_windows=span, phase=phase,
                     period=timedelta(days=7 if period == "1w" else 1))
    drift, silent = suite(suite_name)
    console = Console(stderr=True)
    with console.status("evaluating") as status:
        results = run_suite(cfg, names, drift, silent, status.update)
    where = ("at the start of their window (the best case)" if phase == "start"
             else "anywhere in their window (uniform)")
    text = (f"Onsets and bursts {where}; gradual ramps {span} windows; seed {seed}.\n\n"
            + to_markdown(results, cfg) + "\n" + temporary_summary(results))
    typer.echo(text)  # first: a file that became unwritable meanwhile loses nothing
    if output:
        try:
            output.write_text(text)
        except OSError as exc:
            raise ConfigError(f"--output {output}: cannot write it: "
                              f"{exc.strerror or exc}; the report is printed above") from None


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and ``evaluate`` to the root CLI."""
    app.command("simulate")(simulate)
    app.command("evaluate")(evaluate)
