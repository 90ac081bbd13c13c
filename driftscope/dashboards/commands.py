"""``driftscope dashboards export|push`` and ``driftscope report``, added by :func:`register`.

Errors a user can cause (a wrong URL or token, a bad ``--since``, an unreachable store)
print one line and exit 2. The Grafana token is read from ``DRIFTSCOPE_GRAFANA_TOKEN`` only.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from driftscope.cli_options import command_group

dashboards_app = command_group(help="Grafana dashboards as code.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@dashboards_app.command("export")
def export_cmd(
    directory: Annotated[Path, typer.Argument(help="Where to write <uid>.json files.")],
) -> None:
    """Write every dashboard's JSON (sorted keys) into DIRECTORY."""
    from driftscope.dashboards.build import export

    try:
        written = export(directory)
    except OSError as exc:
        raise _fail(f"cannot write to {directory}: {exc.strerror or exc}") from None
    for path in written:
        typer.echo(str(path))


@dashboards_app.command("push")
def push_cmd(
    url: Annotated[str, typer.Option(help="Grafana base URL, e.g. http://localhost:3000.")],
    folder: Annotated[str, typer.Option(help="Folder uid (created when missing).")] = "driftscope",
    timeout: Annotated[float, typer.Option(help="Seconds per HTTP request.")] = 10.0,
    datasource_uid: Annotated[str, typer.Option(
        help="Uid of the ClickHouse data source in that Grafana (Connections > Data "
        "sources, in its URL).")] = "driftscope-clickhouse",
) -> None:
    """Create or update the dashboards in a Grafana folder (token: DRIFTSCOPE_GRAFANA_TOKEN)."""
    from driftscope.dashboards.push import TOKEN_ENV, PushError, push, shown_url

    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise _fail(f"set {TOKEN_ENV} to a Grafana service-account token")
    try:
        uids = push(url, token, folder_uid=folder, timeout=timeout,
                    datasource_uid=datasource_uid)
    except PushError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"pushed {len(uids)} dashboards to {shown_url(url)} folder {folder} "
               f"(data source {datasource_uid})")


def report_cmd(
    model: Annotated[str, typer.Option(help="The model to report on.")],
    since: Annotated[str, typer.Option(help="Start: 24h, 7d, 2w or an ISO date.")] = "7d",
    until: Annotated[str | None, typer.Option(
        help="End (ISO date); default now, or the model's last window when it is older than "
             "the range (replayed or simulated data).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "--output",  # (evaluate's is --output: either works)
        help="HTML file to write (default reports/driftscope-MODEL-TIME.html).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="driftscope.yaml")] = None,
) -> None:
    """Write one self-contained HTML file with the dashboards' panels for MODEL."""
    from driftscope.cli_options import check_writable
    from driftscope.config import Secrets, load_config
    from driftscope.dashboards.report import parse_since, write_report
    from driftscope.store.clickhouse import Store

    now = datetime.now(UTC)
    try:
        end = parse_since(until, now, "--until") if until else now
        start = parse_since(since, end)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if start >= end:  # an empty (or reversed) range: a report of nothing
        raise _fail(f"--since {since} is not before --until {until}" if until
                    else f"--since {since} is not in the past")
    if out is not None:  # before the store is read
        check_writable(out, "--out", parents=True)
    cfg = load_config(config)
    store = Store.from_config(cfg.store, Secrets.from_env()).require_existing()
    last = _last_window_end(store, model)
    back = parse_since(since, last)  # (an ISO --since is itself, wherever it ends)
    if until is None and last < start and back < last:  # nothing in the last 7d: its own
        end, start = last, back
        typer.echo(f"no data of {model} in the last {since}: reporting the {since} up to its "
                   f"last window, {last:%Y-%m-%d %H:%M} UTC", err=True)
    path = out or Path("reports") / f"driftscope-{model}-{now:%Y%m%dT%H%M}.html"
    write_report(store, model, start, end, path)
    typer.echo(str(path.resolve()))


def _last_window_end(store: Any, model: str) -> datetime:
    """The end of the model's last window; a model without any is a one-line error naming
    the models that have some."""
    from driftscope.durations import as_utc
    from driftscope.store import schema as S

    W = S.WINDOWS
    rows = store.query(f"SELECT {W.model_id}, max({W.window_end}) FROM {W} GROUP BY {W.model_id}")
    ends = {m: as_utc(t) for m, t in rows}
    if model not in ends:
        known = ", ".join(sorted(ends)) or "none yet"
        raise _fail(f"model {model!r} has no window in the store (models with windows: {known})")
    return ends[model]


def register(app: typer.Typer) -> None:
    """Add ``dashboards export|push`` and ``report`` to the root CLI."""
    app.add_typer(dashboards_app, name="dashboards")
    app.command("report")(report_cmd)
