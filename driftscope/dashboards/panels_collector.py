"""The Collector and system dashboard's panels: the collector's (``collector_stats``, dead
letters), the monitor's health (``monitor_passes``, ``monitor_windows`` against the
collector's ``windows``): whether it runs, how long after a window closes its verdict
comes, and the closed windows it has not judged — without a monitor no drift is judged and
no alert fires, while the drift panels only stop moving — and the alerts' delivery
(``alert_outbox``): the messages that wait, per channel, and why.
"""

from __future__ import annotations

from datetime import timedelta

from driftscope.alerts.outbox import MESSAGE
from driftscope.dashboards.conventions import counts_per_interval
from driftscope.dashboards.spec import PanelSpec
from driftscope.store import schema

C = schema.COLLECTOR_STATS
DL = schema.DEAD_LETTERS
M = schema.MONITOR_WINDOWS
O = schema.ALERT_OUTBOX  # noqa: E741
MP = schema.MONITOR_PASSES
W = schema.WINDOWS
BACKLOG_GRACE = timedelta(minutes=15)
"""A closed window counts as unjudged only this long after it first closed: the monitor
waits ``--settle`` (10 s by default) after a close and then for its next pass."""
PASSES_KEPT = timedelta(days=7)
"""``monitor_passes``' TTL (migration 203): older intervals are not shown as without a pass."""


def throughput() -> PanelSpec:
    """Messages consumed, stored and dead-lettered per second."""
    sql = f"""SELECT $__timeInterval({C.flushed_at}) AS time,
  sum({C.consumed}) / $__interval_s AS consumed,
  sum({C.stored}) / $__interval_s AS stored,
  sum({C.dead_lettered}) / $__interval_s AS dead_lettered
FROM {C}
WHERE $__timeFilter({C.flushed_at})
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "throughput", "Throughput", "timeseries", sql,
        ("time", "consumed", "stored", "dead_lettered"), unit="rps",
    )


def consumer_lag() -> PanelSpec:
    """Kafka lag per collector at flush time."""
    sql = f"""SELECT $__timeInterval({C.flushed_at}) AS time, {C.collector_id} AS collector,
  max({C.lag}) AS lag
FROM {C}
WHERE $__timeFilter({C.flushed_at})
GROUP BY time, collector
ORDER BY time"""
    return PanelSpec(
        "consumer_lag", "Consumer lag", "timeseries", sql, ("time", "collector", "lag"),
        series=("collector",), unit="short",
    )


def flush_latency() -> PanelSpec:
    """Flush latency quantiles."""
    sql = f"""SELECT $__timeInterval({C.flushed_at}) AS time,
  quantile(0.5)({C.flush_ms}) AS p50, quantile(0.99)({C.flush_ms}) AS p99
FROM {C}
WHERE $__timeFilter({C.flushed_at})
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "flush_latency", "Flush latency", "timeseries", sql, ("time", "p50", "p99"), unit="ms",
    )


def dead_letters_by_reason() -> PanelSpec:
    """Dead letters per interval, split by reason."""
    sql = counts_per_interval(DL, DL.received_at, DL.reason, "reason", "dead_letters")
    return PanelSpec(
        "dead_letters_by_reason", "Dead letters by reason", "timeseries", sql,
        ("time", "reason", "dead_letters"), series=("reason",),
    )


def late_events() -> PanelSpec:
    """Events that arrived after their window closed, and batch sizes."""
    sql = f"""SELECT $__timeInterval({C.flushed_at}) AS time, sum({C.late}) AS late,
  avg({C.batch_size}) AS batch_size
FROM {C}
WHERE $__timeFilter({C.flushed_at})
GROUP BY time
ORDER BY time"""
    return PanelSpec(
        "late_events", "Late events and batch size", "timeseries", sql,
        ("time", "late", "batch_size"),
    )


def monitor_passes() -> PanelSpec:
    """Monitor passes per interval and the windows they judged; 0 where there was none."""
    step = "INTERVAL $__interval_s second"
    kept = int(PASSES_KEPT.total_seconds())
    sql = f"""SELECT $__timeInterval({MP.finished_at}) AS time, count() AS passes,
  sum({MP.windows}) AS windows
FROM {MP}
WHERE $__timeFilter({MP.finished_at})
GROUP BY time
ORDER BY time WITH FILL
  FROM least($__toTime, greatest(toStartOfInterval($__fromTime, {step}),
    toStartOfInterval(now() - toIntervalSecond({kept}), {step})))
  TO $__toTime STEP $__interval_s"""
    return PanelSpec(
        "monitor_passes", "Monitor passes", "timeseries", sql, ("time", "passes", "windows"),
        description="Passes of the monitor (`driftscope monitor` or `serve`, every monitor "
        "of every model in one pass) finished per interval, and the windows they judged. "
        "`serve` passes every few seconds whether or not a window closed, so passes at 0 "
        "for a while mean the monitor is down or stuck: no drift is judged and no alert "
        "can fire — run `driftscope health monitor` in its container or machine and read "
        "its log. Passes but 0 windows while windows close: see the two panels below. "
        f"Passes are kept {PASSES_KEPT.days} days; older intervals show nothing.",
    )


def _first_close() -> str:
    """Each window of ``windows`` with its first close: the collector rewrites a window's
    row (a later ``closed_at``) when late events come, and the monitor judges it once."""
    return f"""SELECT {W.model_id}, {W.window_start}, {W.window_end},
    min({W.closed_at}) AS closed
  FROM {W}
  GROUP BY {W.model_id}, {W.window_start}, {W.window_end}"""


def verdict_delay() -> PanelSpec:
    """Per model and monitor, the longest time from a window's first close to the
    monitor's verdict on it, by the interval the window closed in.

    ``monitor_windows`` is read ``FINAL``: a window judged again (``driftscope backfill``)
    has its latest verdict, as the table keeps it. The first close is the earliest
    ``closed_at`` of the window's rows; once ClickHouse has merged them only the latest is
    left, so a window rewritten by late events after its verdict counts 0, not less.
    """
    sql = f"""SELECT $__timeInterval(c.closed) AS time,
  concat(v.{M.model_id}, ': ', v.{M.monitor}) AS monitor,
  greatest(max(dateDiff('millisecond', c.closed, v.{M.processed_at}) / 1000), 0) AS delay
FROM {M} AS v FINAL
INNER JOIN (
  {_first_close()}
  HAVING $__timeFilter(closed)
) AS c ON v.{M.model_id} = c.{W.model_id} AND v.{M.window_start} = c.{W.window_start}
  AND v.{M.window_end} = c.{W.window_end}
GROUP BY time, monitor
ORDER BY time"""
    return PanelSpec(
        "verdict_delay", "Time from window close to verdict", "timeseries", sql,
        ("time", "monitor", "delay"), series=("monitor",), unit="s",
        description="Per model and monitor (`model: monitor`), how long after a window "
        "first closed the monitor wrote its verdict on it, the longest of the windows "
        "closed in each interval. Normally the settle delay (`--settle`, 10 s) plus up to "
        "one pass interval; a rising line means the monitor falls behind (passes too slow "
        "for the windows: more monitor capacity, fewer detectors or permutations, longer "
        "windows). Windows not judged yet are not here: they are counted in *Closed "
        "windows without a verdict*. A backfill rewrites its windows' verdicts, which then "
        "show as late.",
    )


def _still_configured(recent: int) -> str:
    """A condition on ``monitor_windows`` rows: their monitor was configured in a pass that
    finished within ``recent`` seconds of the latest one that recorded its monitors (several
    monitor processes on one store each list theirs); every monitor when no pass recorded
    them (passes of before migration 205, or none kept)."""
    return f"""(SELECT countIf(notEmpty({MP.monitors})) FROM {MP}) = 0
    OR ({M.model_id}, {M.monitor}) IN (
      SELECT m.1, m.2 FROM {MP} ARRAY JOIN {MP.monitors} AS m
      WHERE {MP.finished_at} >= (SELECT max({MP.finished_at}) FROM {MP}
        WHERE notEmpty({MP.monitors})) - toIntervalSecond({recent}))"""


def unjudged_windows() -> PanelSpec:
    """Per model and monitor, the windows closed in the range that the monitor has not
    judged: from its first verdict on, and closed at least :data:`BACKLOG_GRACE` ago. A
    monitor the passes name that has judged no window yet (its dataset never uploaded: its
    windows wait) counts every window of its model's latest length closed in the range;
    before, it was not listed, and the stat stayed green."""
    grace = int(BACKLOG_GRACE.total_seconds())
    sql = f"""SELECT f.{M.model_id} AS model, f.{M.monitor} AS monitor,
  countIf(c.{W.window_start} >= f.first AND ifNull(j.judged, 0) = 0
    AND dateDiff('second', c.{W.window_start}, c.{W.window_end}) = f.size) AS backlog
FROM (
  SELECT {M.model_id}, {M.monitor}, min({M.window_start}) AS first,
    argMax(dateDiff('second', {M.window_start}, {M.window_end}), {M.window_start}) AS size
  FROM {M}
  WHERE {_still_configured(grace)}
  GROUP BY {M.model_id}, {M.monitor}
  UNION ALL
  SELECT p.1 AS {M.model_id}, p.2 AS {M.monitor},
    toDateTime64(0, 3, 'UTC') AS first, toInt64(s.size) AS size
  FROM (
    SELECT DISTINCT m AS p FROM {MP} ARRAY JOIN {MP.monitors} AS m
    WHERE {MP.finished_at} >= (SELECT max({MP.finished_at}) FROM {MP}
      WHERE notEmpty({MP.monitors})) - toIntervalSecond({grace})
  ) AS n
  LEFT JOIN (
    SELECT {W.model_id}, argMax({W.window_seconds}, {W.window_start}) AS size
    FROM {W} GROUP BY {W.model_id}
  ) AS s ON s.{W.model_id} = n.p.1
  WHERE n.p NOT IN (SELECT ({M.model_id}, {M.monitor}) FROM {M})
) AS f
LEFT JOIN (
  {_first_close()}
  HAVING $__timeFilter(closed) AND closed < now() - toIntervalSecond({grace})
) AS c ON c.{W.model_id} = f.{M.model_id}
LEFT JOIN (
  SELECT DISTINCT {M.model_id}, {M.monitor}, {M.window_start}, {M.window_end},
    toUInt8(1) AS judged
  FROM {M}
) AS j ON j.{M.model_id} = f.{M.model_id} AND j.{M.monitor} = f.{M.monitor}
  AND j.{M.window_start} = c.{W.window_start} AND j.{M.window_end} = c.{W.window_end}
GROUP BY model, monitor
ORDER BY backlog DESC, model, monitor"""
    return PanelSpec(
        "unjudged_windows", "Closed windows without a verdict", "stat", sql,
        ("model", "monitor", "backlog"), each_row=True, red_from=1,
        no_value="No monitor has judged a window yet",
        description="Per model and monitor (models without a monitor are not listed), the "
        "windows closed in the time range that the monitor has not judged: only windows "
        "from its first verdict on (a model monitored since yesterday has no backlog of "
        "last year; one that has judged none yet — its reference dataset never uploaded, "
        "say — counts every window of the range), and closed more than "
        f"{int(BACKLOG_GRACE.total_seconds() // 60)} minutes ago (the settle delay and "
        "the next pass). Above 0: the monitor is down, stuck or behind (see *Monitor "
        "passes*: `driftscope health monitor` in its container or machine), or failed on "
        "a window (its log says which; the windows after it wait). A monitor taken out of "
        "the configuration leaves the list once the passes have gone on without it for "
        f"{int(BACKLOG_GRACE.total_seconds() // 60)} minutes. Only the collector's windows "
        "of the length of the monitor's latest verdict are counted (the model's window "
        "changed: the new length).",
    )


WAITING = "('pending', 'sending', 'failed')"
"""The outbox statuses of a message not delivered yet."""


def alert_delivery() -> PanelSpec:
    """Per channel: the messages waiting to be delivered now, how many of them failed, how
    long the oldest has waited, those delivered in the range, and the last error."""
    waiting = f"{O.status} IN {WAITING}"
    sql = f"""SELECT {O.channel} AS channel, uniqExactIf({MESSAGE}, {waiting}) AS waiting,
  uniqExactIf({MESSAGE}, {O.status} = 'failed') AS failed,
  if(waiting = 0, '', formatReadableTimeDelta(greatest(
    dateDiff('second', minIf({O.created_at}, {waiting}), now()), 1))) AS oldest_waiting,
  uniqExactIf({MESSAGE}, {O.status} = 'sent' AND $__timeFilter({O.updated_at}))
    AS delivered,
  argMaxIf({O.last_error}, {O.updated_at}, {waiting} AND {O.last_error} != '') AS last_error
FROM {O} FINAL
WHERE {O.status} IN ('pending', 'sending', 'failed', 'sent')
GROUP BY channel
HAVING waiting > 0 OR delivered > 0
ORDER BY waiting DESC, channel"""
    return PanelSpec(
        "alert_delivery", "Alert delivery", "table", sql,
        ("channel", "waiting", "failed", "oldest_waiting", "delivered", "last_error"),
        width=24, height=6, no_value="No alert message in the range, none waiting",
        description="Per channel (slack, webhook, console, kafka, command): the messages "
        "waiting now to be delivered, those of them whose retries failed (tried again once "
        "per `alerts.backoff_max`), how long the oldest has waited, the messages delivered "
        "in the time range, and the receiver's last error. Messages wait a moment to be "
        "grouped (`alerts.group_wait`); one waiting minutes means nobody was told: the "
        "receiver is down or refuses it (the error says which; a URL or secret to fix), or "
        "no dispatcher runs (`driftscope health alerts` fails in both cases). `driftscope "
        "alerts outbox` lists them; `driftscope alerts discard KEY` gives one up.",
    )


COLLECTOR = (throughput, consumer_lag, flush_latency, dead_letters_by_reason, late_events,
             monitor_passes, verdict_delay, unjudged_windows, alert_delivery)
