"""Data retention: ``store.retention`` as ClickHouse TTLs on the store's tables.

Each group of ``store.retention`` (:class:`~driftscope.config.RetentionConfig`) expires
some tables, each by one time column (:data:`GROUPS`); the tables in :data:`KEPT` never
expire. :func:`apply` sets the TTLs (``ALTER TABLE … MODIFY TTL``), removes those of
groups that were unset (``REMOVE TTL``), and leaves alone a table whose TTL is already
the one wanted, so running it again does nothing. :meth:`Store.migrate
<driftscope.store.clickhouse.Store.migrate>` runs it for a store made from the
configuration. ClickHouse deletes expired rows in background merges (a table's TTL
merges are ``merge_with_ttl_timeout`` apart, four hours by default), so rows outlive
their retention by hours.

Time columns: rows are dated by when they were stored (``ingested_at``, ``updated_at`` …)
where a late or replayed row must not vanish at once, and by their window
(``window_start``) where all the rows of one window must go together: a window is never
seen half deleted. Within ``profiles`` the tables go in the order they are read — a
window's parts and profiles first, its ``windows`` row a day later, the monitor's record
of having processed it a day after that — so the collector never sees parts without
their window row (it would close the window again), nor the monitor a closed window
without its record (it would process it again).

Examples
--------
>>> from driftscope.config import RetentionConfig
>>> print(plan(RetentionConfig(dead_letters="30d"))["dead_letters"])  # doctest: +ELLIPSIS
toDateTime(greatest(least(received_at, ...))) + toIntervalSecond(2592000)
>>> plan(RetentionConfig())["events"] is None
True
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from driftscope.durations import show_duration
from driftscope.store import schema as S

if TYPE_CHECKING:
    from driftscope.config import Config, ModelConfig, RetentionConfig
    from driftscope.monitor.config import MonitorConfig
    from driftscope.store.clickhouse import Store

log = logging.getLogger("driftscope.store")

DAY = 86400


@dataclass(frozen=True)
class Rule:
    """One table of a group: dated by ``column``, kept ``slack`` seconds beyond the group's
    retention."""

    table: S._Table
    column: str
    slack: int = 0


GROUPS: dict[str, tuple[Rule, ...]] = {
    # the big tables: raw events and labels by when they were stored (a replay of old
    # events is kept as long as a live one); samples have no such column: by window
    "events": (
        Rule(S.EVENTS, "ingested_at"),
        Rule(S.FEEDBACK, "ingested_at"),
        Rule(S.SAMPLES, "window_start"),
    ),
    # per-window aggregates and bookkeeping, by window, in the order they are read
    "profiles": (
        Rule(S.PROFILES, "window_start"),
        Rule(S.MERGED_PROFILES, "window_start"),
        Rule(S.WINDOW_PARTS, "window_start"),
        Rule(S.WINDOWS, "window_start", slack=DAY),
        Rule(S.MONITOR_WINDOWS, "window_start", slack=2 * DAY),
    ),
    # the monitor's findings by window; alerts and deliveries by their last change (an
    # alert firing for longer than the retention is kept); silences after they end
    "results": (
        Rule(S.DRIFT_RESULTS, "window_start"),
        Rule(S.ALERTS, "updated_at"),
        Rule(S.ALERT_OUTBOX, "updated_at"),
        Rule(S.RETRAIN_REQUESTS, "created_at"),
        Rule(S.ALERT_SILENCES, "until"),
    ),
    "dead_letters": (Rule(S.DEAD_LETTERS, "received_at"),),
    "collector_stats": (Rule(S.COLLECTOR_STATS, "flushed_at"),),
}
"""``store.retention`` key → the tables it expires."""

KEPT: tuple[S._Table, ...] = (
    S.REFERENCES,  # uploaded reference datasets
    S.REFERENCE_EVENTS,
    S.MODEL_FEATURES,  # the feature kinds learned once per model
    S.MODEL_VERSIONS,  # when each version served (merged to a row per model x version)
    S.CONSUMER_OFFSETS,  # where each partition resumes
    S.SCHEMA_MIGRATIONS,
)
"""Tables that never expire."""

OWN_TTL: tuple[S._Table, ...] = (S.MONITOR_PASSES,)
"""Tables with a fixed TTL of their own (a migration's): not managed here."""

_START = datetime(2000, 1, 3, tzinfo=UTC)  # any window start does, for a look-back
_MAX_DATETIME = 4294967295  # 2106-02-07 06:28:15 UTC, the last DateTime
_TTL = re.compile(r"\sTTL\s(.*?)(?:\sSETTINGS\s|$)", re.S)


def ttl_expression(rule: Rule, seconds: int) -> str:
    """The TTL of ``rule``'s table for a retention of ``seconds``, written as ClickHouse
    shows it back (``system.tables.engine_full``).

    TTLs are DateTime (to 2106; DateTime64 TTLs need ClickHouse 25.6): the time is clamped
    so that the sum stays in range: a window dated 1969 does not wrap round to 2105 nor
    one dated 2200 to 1970 (events are accepted from 1900 to 2299).
    """
    total = seconds + rule.slack
    return (f"toDateTime(greatest(least({rule.column}, toDateTime64({_MAX_DATETIME - total}, "
            f"3, 'UTC')), toDateTime64(0, 3, 'UTC'))) + toIntervalSecond({total})")


def plan(retention: RetentionConfig) -> dict[str, str | None]:
    """Table → the TTL it should have (None: none, rows kept for ever), managed tables only."""
    out: dict[str, str | None] = {}
    for group, rules in GROUPS.items():
        keep: timedelta | None = getattr(retention, group)
        for rule in rules:
            seconds = None if keep is None else int(keep.total_seconds())
            out[str(rule.table)] = None if seconds is None else ttl_expression(rule, seconds)
    return out


def current(store: Store) -> dict[str, str | None]:
    """Table → its TTL expression as ClickHouse shows it (None: none), every table."""
    rows = store.query(
        "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase()")
    out: dict[str, str | None] = {}
    for name, engine in rows:
        m = _TTL.search(str(engine))
        out[str(name)] = m.group(1).strip() if m else None
    return out


def _same(a: str | None, b: str | None) -> bool:
    def norm(s: str | None) -> str | None:
        return None if s is None else re.sub(r"[\s`]", "", s)
    return norm(a) == norm(b)


def _ours(table: str, ttl: str) -> bool:
    """Whether ``ttl`` is one :func:`ttl_expression` could have set on ``table``."""
    rule = next(r for rules in GROUPS.values() for r in rules if str(r.table) == table)
    m = re.search(r"toIntervalSecond\((\d+)\)\s*$", ttl)
    return m is not None and _same(ttl, ttl_expression(rule, int(m.group(1)) - rule.slack))


def apply(store: Store, retention: RetentionConfig) -> list[str]:
    """Give every managed table the TTL ``retention`` asks for; return the statements run.

    A table that already has it is left alone. An unset group removes the TTL only where
    it is one this module sets (a TTL someone wrote by hand stays). Changing a TTL makes
    ClickHouse recompute it over the table's existing rows (``materialize_ttl_after_modify``,
    a mutation: on a server it runs in the background)."""
    have = current(store)
    done = []
    for table, want in plan(retention).items():
        if table not in have:  # not migrated (yet)
            continue
        ttl = have[table]
        if _same(ttl, want):
            continue
        if want is not None:
            sql = f"ALTER TABLE {table} MODIFY TTL {want}"
        elif ttl is not None and _ours(table, ttl):
            sql = f"ALTER TABLE {table} REMOVE TTL"
        else:
            if ttl is not None:
                log.warning("table %s keeps its TTL %s: not one store.retention sets", table, ttl)
            continue
        store.command(sql)
        log.info("retention: %s", sql)
        done.append(sql)
    return done


def describe(retention: RetentionConfig, changes: list[str] | None = None) -> str:
    """One line: what is kept how long (and how many TTLs were just changed)."""
    set_ = [f"{g} {show_duration(getattr(retention, g))}" for g in GROUPS if getattr(retention, g)]
    forever = [g for g in GROUPS if not getattr(retention, g)]
    text = "retention: " + ", ".join(set_) if set_ else "retention: none"
    text += f"; kept for ever: {', '.join(forever)}" if set_ and forever else ""
    text += "; every table kept for ever" if not set_ else ""
    if changes:
        text += f" ({len(changes)} table TTL{'s' if len(changes) > 1 else ''} changed)"
    return text


# -- what the services need --------------------------------------------------------------
def source_group(model: ModelConfig) -> tuple[str, str]:
    """The group whose tables hold what a monitor of ``model`` reads, and what it reads,
    as the scheduler picks it (``Monitor._source``): raw events when ``raw`` is logged (a
    model not configured is auto-registered with raw logging), else the windows' samples
    (``samples``, in ``events``), else the windows' profiles.

    >>> from driftscope.config import ModelConfig
    >>> source_group(ModelConfig(id="m", logging=["profile"]))
    ('profiles', 'profiles')
    """
    if "raw" in model.logging:
        return "events", "events"
    if "sample" in model.logging:
        return "events", "samples"
    return "profiles", "profiles"


def look_back(mon: MonitorConfig, size: timedelta) -> tuple[timedelta, list[str]]:
    """How far before its window's end a monitor's pass reads, and what reaches back.

    As the scheduler (``Monitor._evaluate``) does: the window; its ``previous`` or
    ``seasonal`` reference; with ``persistence`` enabled, the window before and the
    ``baseline`` windows before that (``baseline + 2`` windows back), each with its own
    moving reference; and with a ``label_delay``, the window whose labels are in, that
    many windows back (it is scored, not compared: no reference). ``fixed``, ``initial``
    and ``dataset`` references are not counted (:func:`check` has rules of their own).
    """
    from driftscope.monitor.reference import reference_range  # (imports the store)
    from driftscope.types import Window

    w = Window(mon.model, _START, size)
    ref = mon.reference
    moving = ref.kind in ("previous", "seasonal")
    compared = [w]
    why = [f"its {show_duration(size)} window"]
    if moving:
        why.append(f"its {ref.kind} reference")
    spec = mon.persistence
    if spec.enabled:
        compared += [w.before(1)] + [w.before(j) for j in range(3, spec.baseline + 3)]
        back = f"{spec.baseline + 2} windows" if spec.baseline else "window"
        why.append(f"the {back} before that its persistence check reads"
                   + (" (and their references)" if moving else ""))
    starts = [x.start for x in compared]
    if moving:
        starts += [reference_range(ref, x)[0] for x in compared]
    lag = mon.performance.lag(size) if mon.performance is not None else 0
    if lag:
        starts.append(w.before(lag).start)
        why.append(f"its {show_duration(lag * size)} label delay")
    return w.end - min(starts), why


def check(config: Config) -> None:
    """Raise ValueError (one line) when a retention is shorter than the services need.

    Each monitor reads from the group that holds its model's data (:func:`source_group`):
    ``events`` for a model logged ``raw`` or ``sample``, ``profiles`` for one logged only
    as profiles.

    - ``events`` covers ``collector.feedback_horizon`` when labels can be joined to stored
      events or samples: some model logs ``raw`` or ``sample``, a monitor watches a model
      not configured, or none is configured (both auto-registered with raw logging).
    - ``profiles``, and ``events`` for a model logging ``raw`` or ``sample``, cover its
      window plus its lateness (an open window's rows).
    - Each monitor's group covers its look-back (:func:`look_back`) plus the model's
      lateness.
    - A ``fixed`` reference reads what that group deletes; an ``initial`` one, the first
      windows (``windows``, in ``profiles``) and their data: upload it (``dataset``).
    - ``results`` covers ``alerts.cooldown`` and each monitor's window plus its model's
      lateness (an alert is updated once a window).
    """
    keep = config.store.retention
    if all(v is None for v in keep.model_dump().values()):
        return  # kept for ever: nothing to check
    from driftscope.config import ModelConfig

    models = {m.id: m for m in config.models}
    horizon = config.collector.feedback_horizon
    labelled = (not models or any({"raw", "sample"} & set(m.logging) for m in models.values())
                or any(mon.model not in models for mon in config.monitors))
    if labelled and keep.events is not None and keep.events < horizon:
        raise ValueError(
            f"store.retention.events = {show_duration(keep.events)} is shorter than "
            f"collector.feedback_horizon = {show_duration(horizon)}: labels are joined to the "
            "stored events and samples for that long; keep events at least as long")
    for model in config.models:
        need = model.window + model.allowed_lateness
        groups = ["events", "profiles"] if {"raw", "sample"} & set(model.logging) else ["profiles"]
        for group in groups:
            kept: timedelta | None = getattr(keep, group)
            if kept is not None and kept < need:
                raise ValueError(
                    f"store.retention.{group} = {show_duration(kept)} is shorter than model "
                    f"{model.id!r}'s window plus allowed_lateness ({show_duration(need)}): an open "
                    "window's rows would expire")
    if keep.results is not None and keep.results < config.alerts.cooldown:
        raise ValueError(
            f"store.retention.results = {show_duration(keep.results)} is shorter than "
            f"alerts.cooldown = {show_duration(config.alerts.cooldown)}: an alert's last "
            "announcement would expire within its cooldown")
    for mon in config.monitors:
        # a model not configured is auto-registered with the defaults (raw logging)
        watched = models.get(mon.model) or ModelConfig(id=mon.model)
        size = mon.window or watched.window
        lateness = watched.allowed_lateness
        if keep.results is not None and keep.results < size + lateness:
            raise ValueError(
                f"store.retention.results = {show_duration(keep.results)} is shorter than "
                f"monitor {mon.name!r}'s window plus allowed_lateness "
                f"({show_duration(size + lateness)}): its results would expire as they are "
                "written, and a firing alert (updated once a window) between its updates")
        group, what = source_group(watched)
        kept = getattr(keep, group)
        ref = mon.reference
        if ref.kind == "initial" and (kept or keep.profiles):
            named, verb = (("retention.profiles", "deletes") if group == "profiles" else
                           ("retention.events and .profiles", "delete"))
            raise ValueError(
                f"monitor {mon.name!r}: an initial reference is the model's first windows "
                f"(their windows rows and {what}), which store.{named} {verb}; upload it "
                f"and use kind: dataset, or leave {named} unset")
        if ref.kind == "fixed" and kept:
            raise ValueError(
                f"monitor {mon.name!r}: a fixed reference reads stored {what}, which "
                f"store.retention.{group} deletes after {show_duration(kept)}; upload it and use "
                f"kind: dataset, or leave retention.{group} unset")
        if kept is None:
            continue
        span, why = look_back(mon, size)
        need = span + lateness
        if kept < need:
            raise ValueError(
                f"store.retention.{group} = {show_duration(kept)} is shorter than monitor "
                f"{mon.name!r}'s look-back into the model's {what} ({show_duration(need)}: "
                f"{', '.join(why)}, allowed_lateness); keep {group} at least that long")
