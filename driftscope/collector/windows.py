"""Event-time tumbling windows with an allowed lateness, per model.

A window of size ``w`` starts at a multiple of ``w`` since the Unix epoch (UTC) and
covers ``[start, start + w)``. Each model has a **watermark**::

    watermark = (latest event time seen for the model) − allowed_lateness

A window is **closed** as soon as ``watermark ≥ window end``; an event whose window is
already closed when it arrives is **late**: it is still stored, flagged and counted. A
window that closes is reported by :meth:`WindowTracker.take_closed`; the collector writes
its ``windows`` row after the flush that holds every on-time event it has seen for it.

Everything here is plain integers (milliseconds since the epoch); no clock, no I/O.

Examples
--------
>>> t = WindowTracker()
>>> t.assign("m", 60_000, 10_000, 5_000)        # window [60 s, 70 s), on time
(60000, False)
>>> t.assign("m", 76_000, 10_000, 5_000)        # watermark 71 s closes [60 s, 70 s)
(70000, False)
>>> t.assign("m", 65_000, 10_000, 5_000)        # now late
(60000, True)
>>> t.take_closed()
[('m', 60000, 10000)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

RESTORED = -1
"""Pseudo-partition holding the latest event time restored from the store."""
UNASSIGNED = -2
"""Pseudo-partition that lags while the collector owns no partition (before its first
assignment, between a revocation and the next): nothing is ever read from it, so it holds
every watermark and no window closes on times restored from the store alone."""


@dataclass
class _ModelWindows:
    max_by_partition: dict[int, int] = field(default_factory=dict)
    lateness_ms: int = 0
    open: dict[tuple[int, int], None] = field(default_factory=dict)  # (start, size)

    @property
    def max_event_ms(self) -> int | None:
        return max(self.max_by_partition.values()) if self.max_by_partition else None

    def watermark(self, lagging: frozenset[int]) -> int | None:
        """``lagging``: partitions with unread messages. Each holds the watermark back to
        this model's latest event time read from it, entirely while none is (another
        model's time says nothing of this one's: a model whose events run a day behind
        another's on the same topic would be closed ahead of its own unread events)."""
        if not self.max_by_partition:
            return None
        held = [self.max_by_partition.get(p) for p in lagging]
        if None in held:
            return None
        top = max(self.max_by_partition.values())
        return min([top, *(t for t in held if t is not None)]) - self.lateness_ms


class WindowTracker:
    """Assigns events to windows, flags late ones, and reports windows as they close."""

    def __init__(self) -> None:
        self._models: dict[str, _ModelWindows] = {}
        self._closed: dict[tuple[str, int, int], None] = {}
        self._lagging: frozenset[int] = frozenset()

    def watermark(self, model_id: str) -> int | None:
        """The model's watermark in epoch milliseconds (None before its first event)."""
        state = self._models.get(model_id)
        return None if state is None else state.watermark(self._lagging)

    def set_lagging(self, partitions: set[int] | frozenset[int]) -> None:
        """Partitions that still have unread messages; may close windows when it shrinks."""
        lagging = frozenset(partitions)
        if lagging == self._lagging:
            return
        self._lagging = lagging
        for model_id, state in self._models.items():
            self._advance(model_id, state)

    def restore(
        self,
        model_id: str,
        max_event_ms: int,
        lateness_ms: int,
        open_windows: list[tuple[int, int]],
    ) -> None:
        """Resume from the store: the latest event time and the windows not yet closed."""
        state = self._models.setdefault(model_id, _ModelWindows())
        if max_event_ms > state.max_by_partition.get(RESTORED, max_event_ms - 1):
            state.max_by_partition[RESTORED] = max_event_ms
        state.lateness_ms = lateness_ms
        for start, size in open_windows:
            state.open[(start, size)] = None
        self._advance(model_id, state)

    def assign(
        self, model_id: str, event_ms: int, size_ms: int, lateness_ms: int, partition: int = 0
    ) -> tuple[int, bool]:
        """(window start, late) of one event read from ``partition``; may close windows."""
        state = self._models.get(model_id)
        if state is None:
            state = self._models[model_id] = _ModelWindows(lateness_ms=lateness_ms)
        state.lateness_ms = lateness_ms
        start = event_ms - event_ms % size_ms
        wm = state.watermark(self._lagging)
        if wm is not None and start + size_ms <= wm:
            self._closed[(model_id, start, size_ms)] = None  # rewrite its counts
            return start, True
        state.open[(start, size_ms)] = None
        if event_ms > state.max_by_partition.get(partition, event_ms - 1):
            state.max_by_partition[partition] = event_ms
            self._advance(model_id, state)
        return start, False

    def _advance(self, model_id: str, state: _ModelWindows) -> None:
        wm = state.watermark(self._lagging)
        if wm is None:
            return
        done = [key for key in state.open if key[0] + key[1] <= wm]
        for start, size in done:
            del state.open[(start, size)]
            self._closed[(model_id, start, size)] = None

    @property
    def has_closed(self) -> bool:
        """Whether windows closed (or were touched by a late event) since the last
        :meth:`take_closed`: a partition caught up without a record read can close some."""
        return bool(self._closed)

    def take_closed(self) -> list[tuple[str, int, int]]:
        """Windows closed (or touched by a late event) since the last call, in order."""
        out = sorted(self._closed)
        self._closed.clear()
        return out

    def put_back(self, closed: list[tuple[str, int, int]]) -> None:
        """Return windows from :meth:`take_closed` whose rows could not be written."""
        for key in closed:
            self._closed[key] = None
