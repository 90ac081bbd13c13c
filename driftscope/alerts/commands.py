"""`driftscope alerts list|ack|resolve|silence|silences|unsilence|outbox|discard|run`."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from driftscope.cli_options import ConfigOption, command_group

if TYPE_CHECKING:
    from driftscope.alerts.outbox import Delivery
    from driftscope.alerts.state import AlertStore
    from driftscope.config import Config, Secrets
    from driftscope.store.clickhouse import Store

log = logging.getLogger("driftscope.alerts")

alerts_app = command_group(
    help="List, acknowledge, silence and resolve alerts; deliver the outbox.",
    no_args_is_help=True)

ID_WIDTH = 20  # an alert id: 20 hex digits (driftscope.alerts.rules.alert_id)
MIN_PREFIX = 6  # `ack` takes an id's first characters, at least this many

AlertIdArgument = Annotated[str, typer.Argument(
    help=f"The alert id (see `alerts list`), or its first {MIN_PREFIX}+ characters.")]



def _store(config: Path | None) -> tuple[Config, Secrets, Store]:
    from driftscope.config import Secrets, load_config
    from driftscope.store.clickhouse import Store

    cfg = load_config(config)
    secrets = Secrets.from_env()
    store = Store.from_config(cfg.store, secrets).require_existing()
    store.migrate()
    return cfg, secrets, store


@alerts_app.command("list")
def list_alerts(
    state: Annotated[str | None, typer.Option(help="firing | acknowledged | resolved")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.", min=1)] = 50,
    config: ConfigOption = None,
) -> None:
    """Alerts, newest first."""
    from rich.console import Console
    from rich.table import Table

    from driftscope.alerts.rules import ACKNOWLEDGED, FIRING, RESOLVED
    from driftscope.alerts.state import AlertStore

    if state is not None and state not in (FIRING, ACKNOWLEDGED, RESOLVED):
        raise typer.BadParameter(f"{state!r}: expected {FIRING}, {ACKNOWLEDGED} or {RESOLVED}",
                                 param_hint="--state")
    _, _, store = _store(config)
    table = Table(title=None)
    table.add_column("alert", no_wrap=True, min_width=ID_WIDTH)  # ids whole, for `ack`
    table.add_column("state", no_wrap=True, min_width=len(ACKNOWLEDGED))
    for name in ("model", "monitor"):
        table.add_column(name, overflow="fold")
    for name in ("since", "windows", "summary"):
        table.add_column(name)
    found = AlertStore(store).recent(state, model, limit)
    if not found:  # say where it looked: a command run without the server's -c reads
        # ./.driftscope/db, not the server's store, and an empty table looks like "none"
        which = " ".join(x for x in (state, "alerts", f"of model {model}" if model else "")
                         if x)
        typer.echo(f"no {which} in {store.where}")
        return
    for alert, summary, _ in found:
        table.add_row(alert.alert_id, alert.state, alert.model_id, alert.monitor,
                      f"{alert.opened_window:%Y-%m-%d %H:%M}", str(alert.windows), summary)
    # a terminal wraps the table to its width; piped (grep, a file, a script) each row
    # stays on one line, whole
    Console(width=None if sys.stdout.isatty() else 10_000).print(table)


@alerts_app.command("ack")
def ack(
    alert_id: AlertIdArgument,
    by: Annotated[str, typer.Option(help="Who acknowledges.")] = "cli",
    config: ConfigOption = None,
) -> None:
    """Acknowledge a firing alert (it stays open until it resolves)."""
    from driftscope.alerts.rules import RESOLVED
    from driftscope.alerts.state import AlertStore
    from driftscope.errors import ConfigError

    _, _, store = _store(config)
    alerts = AlertStore(store)
    alert_id = _whole_id(alerts, alert_id)
    alert = alerts.acknowledge(alert_id, by, datetime.now(UTC))
    if alert is None:
        raise ConfigError(f"no alert {alert_id!r} (an id, or its first {MIN_PREFIX}+ "
                          "characters); see `driftscope alerts list`")
    if alert.state == RESOLVED:  # nothing to acknowledge: say so, not just its state
        typer.echo(f"{alert_id}: already resolved, nothing acknowledged")
        return
    typer.echo(f"{alert_id}: {alert.state}")


@alerts_app.command("resolve")
def resolve(
    alert_id: AlertIdArgument,
    by: Annotated[str, typer.Option(help="Who resolves it.")] = "cli",
    config: ConfigOption = None,
) -> None:
    """Close an open alert whose monitor was removed from the configuration (it never
    resolves by itself; the monitor warns of it). No message is sent."""
    from driftscope.alerts.rules import RESOLVED
    from driftscope.alerts.state import AlertStore
    from driftscope.errors import ConfigError

    cfg, _, store = _store(config)
    alerts = AlertStore(store)
    alert_id = _whole_id(alerts, alert_id)
    found = alerts.get(alert_id)
    if found is not None and found[0].state == RESOLVED:  # (before: "resolves by itself")
        typer.echo(f"{alert_id}: already resolved")
        return
    if found is not None and any((m.model, m.name) == (found[0].model_id, found[0].monitor)
                                 for m in cfg.monitors):
        raise ConfigError(
            f"alert {alert_id} is of monitor {found[0].monitor!r}, which is configured: it "
            f"resolves by itself after {cfg.alerts.resolve_windows} good windows (the "
            "monitor would open it again); to stop its messages, `driftscope alerts ack` "
            "or `alerts silence` it")
    if alerts.resolve(alert_id, by, datetime.now(UTC)) is None:
        raise ConfigError(f"no open alert {alert_id!r}; see `driftscope alerts list --state "
                          "firing`")
    typer.echo(f"{alert_id}: resolved")


def _whole_id(alerts: AlertStore, given: str) -> str:
    """The id ``given`` is, or the one id it is the start of (at least ``MIN_PREFIX``
    characters); otherwise a one-line error."""
    from driftscope.errors import ConfigError

    if alerts.get(given) is not None:
        return given
    if len(given) < MIN_PREFIX:
        raise ConfigError(f"no alert {given!r}: give the whole id, or at least its first "
                          f"{MIN_PREFIX} characters (see `driftscope alerts list`)")
    found = alerts.ids_starting(given)
    if len(found) > 1:
        shown = ", ".join(found[:2]) + (", …" if len(found) > 2 else "")
        raise ConfigError(f"alert id prefix {given!r} matches several alerts ({shown}); "
                          "give more of the id")
    return found[0] if found else given


@alerts_app.command("silence")
def silence(
    model: Annotated[str, typer.Option(help="Model id, or * for all.")],
    duration: Annotated[str, typer.Option("--for", help="How long, e.g. 2h, 1d.")] = "1h",
    monitor: Annotated[str, typer.Option(help="Monitor name, or * for all.")] = "*",
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    config: ConfigOption = None,
) -> None:
    """Record alerts of a model without announcing them, for a while."""
    from driftscope.alerts.state import AlertStore
    from driftscope.monitor.commands import parse_duration_option

    length = parse_duration_option("--for", duration)
    if length <= timedelta(0):
        raise typer.BadParameter(f"{duration!r}: a silence lasts a positive time, e.g. 2h "
                                 "(to end one: `driftscope alerts unsilence ID`)",
                                 param_hint="--for")
    cfg, _, store = _store(config)
    _silenced_exists(cfg, model, monitor)
    now = datetime.now(UTC)
    until = now + length
    sid = AlertStore(store).silence(model, monitor, until, reason, now)
    typer.echo(f"silence {sid}: {model}/{monitor} until {until:%Y-%m-%d %H:%M} UTC "
               f"(`driftscope alerts unsilence {sid}` ends it)")


def _silenced_exists(cfg: Config, model: str, monitor: str) -> None:
    """A one-line error for a silence no configured monitor falls under (``demo-drfit``
    was silenced, said so, and the real alert kept paging); with no monitor configured
    (a configuration for the alerts alone) there is nothing to check against."""
    from driftscope.errors import ConfigError

    pairs = {(m.model, m.name) for m in cfg.monitors}
    if pairs and not any(model in ("*", mo) and monitor in ("*", na) for mo, na in pairs):
        shown = ", ".join(f"{mo}/{na}" for mo, na in sorted(pairs)[:12])
        raise ConfigError(f"no configured monitor is {model}/{monitor} (model/monitor; * "
                          f"for all): the silence would hold nothing; monitors: {shown}")


@alerts_app.command("silences")
def silences(config: ConfigOption = None) -> None:
    """The silences in force, soonest to end first."""
    from driftscope.alerts.state import AlertStore

    _, _, store = _store(config)
    found = AlertStore(store).active_silences(datetime.now(UTC))
    if not found:
        typer.echo("no silence in force")
    for sid, model, monitor, until, reason in found:
        why = f" — {reason}" if reason else ""
        typer.echo(f"{sid}  {model}/{monitor} until {until:%Y-%m-%d %H:%M} UTC{why}")


@alerts_app.command("unsilence")
def unsilence(
    silence_id: Annotated[str, typer.Argument(help="The silence's id (see `alerts silences`).")],
    config: ConfigOption = None,
) -> None:
    """End a silence now: the next bad window of an alert it held back is announced."""
    from driftscope.alerts.state import AlertStore
    from driftscope.errors import ConfigError

    _, _, store = _store(config)
    if not AlertStore(store).end_silence(silence_id, datetime.now(UTC)):
        raise ConfigError(f"no silence {silence_id!r} in force; see `driftscope alerts "
                          "silences`")
    typer.echo(f"silence {silence_id}: ended")


@alerts_app.command("outbox")
def outbox(config: ConfigOption = None) -> None:
    """The messages not delivered yet, oldest first: channel, status, attempts, how long
    each has waited and its last error (`discard` gives one up)."""
    from driftscope.alerts.outbox import Outbox

    _, _, store = _store(config)
    rows = Outbox(store).pending(include_failed=True)
    if not rows:
        typer.echo("nothing waits: every message was delivered")
        return
    messages: dict[str, list[Delivery]] = {}
    for d in rows:  # (a message sent together holds its rows under one send key)
        messages.setdefault(d.send_key or d.delivery_id, []).append(d)
    now = datetime.now(UTC)
    for key, members in messages.items():
        first = members[0]
        waited = (now - min(d.created_at for d in members)).total_seconds()
        kinds = ", ".join(sorted({d.kind for d in members}))
        error = next((d.last_error for d in members if d.last_error), "")
        typer.echo(f"{key}  {first.channel} {first.status} {kinds} ({len(members)} row(s)), "
                   f"{first.attempts} attempt(s), waiting {_waited(waited)}"
                   + (f" — {error}" if error else ""))


def _waited(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3.5 h``, ``2.0 d``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.1f} d"


@alerts_app.command("discard")
def discard(
    key: Annotated[str, typer.Argument(help="The message's key, as `alerts outbox` lists it.")],
    by: Annotated[str, typer.Option(help="Who gives it up.")] = "cli",
    config: ConfigOption = None,
) -> None:
    """Give up a message that cannot be delivered (a receiver that refuses it for good):
    it is never tried again and no longer holds `driftscope health alerts` down. Waits
    (up to 2 minutes) for a dispatcher sending at that moment."""
    from driftscope.alerts.lease import LeaseLost
    from driftscope.alerts.outbox import Outbox
    from driftscope.errors import ConfigError, DriftscopeError

    _, _, store = _store(config)
    try:
        gone = Outbox(store).discard(key, f"discarded by {by}")
    except LeaseLost as exc:
        raise DriftscopeError(str(exc)) from None
    if not gone:
        raise ConfigError(f"no undelivered message {key!r}; see `driftscope alerts outbox`")
    typer.echo(f"discarded {key}: {len(gone)} row(s) via {gone[0].channel}, never sent")


@alerts_app.command("run")
def run(
    retry_failed: Annotated[bool, typer.Option(help="Also retry failed deliveries.")] = True,
    follow: Annotated[bool, typer.Option(
        "--follow", help="Keep delivering every --interval seconds (the alerts service).")] = False,
    interval: Annotated[float, typer.Option(
        min=0.5, help="Seconds between runs with --follow.")] = 10.0,
    config: ConfigOption = None,
) -> None:
    """Deliver everything pending in the outbox (with retries and backoff).

    With --follow, a new message group is sent once the monitor pass that enqueued it has
    finished (or `alerts.group_wait` after its newest alert), so that alerts of one window
    from several monitors go out as one message; failed messages are retried once per
    `alerts.backoff_max`, after the new ones.
    """
    from driftscope.alerts.channels import dispatcher
    from driftscope.errors import StoreUnavailable
    from driftscope.telemetry import beat, stopped

    cfg, secrets, store = _store(config)
    d = dispatcher(store, cfg, secrets)
    failed = False
    while True:
        try:
            counts = d.run(include_failed=retry_failed,
                           hold=cfg.alerts.group_wait if follow else timedelta(0),
                           pace_failed=follow)
            undelivered = d.health(cfg.alerts.group_wait if follow else timedelta(0))
        except StoreUnavailable as exc:
            if not follow:
                raise
            log.warning("alerts run skipped, the store is unavailable: %s", exc)
        else:
            beat("alerts", cfg.store.identity(), undelivered)
            failed = bool(counts["failed"])
            if not follow or counts["sent"] or counts["failed"]:
                typer.echo(f"sent {counts['sent']}, failed {counts['failed']}, "
                           f"skipped {counts['skipped']}, held {counts['held']}")
        if not follow:
            if failed:  # the errors are in the log and the outbox's last_error
                raise typer.Exit(1)
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            stopped("alerts", cfg.store.identity())
            return


def register(app: typer.Typer) -> None:
    """Add `alerts` to the root CLI."""
    app.add_typer(alerts_app, name="alerts")
