"""Reference windows: fixed range, uploaded dataset, previous N windows, seasonal, initial.

:func:`reference_range` is pure (which time range a window is compared with);
:class:`ReferenceReader` reads and caches the reference frames from the store.

Examples
--------
>>> from datetime import datetime, timedelta, timezone
>>> from driftscope.monitor.config import ReferenceSpec
>>> w = Window("m", datetime(2026, 1, 2, 10, tzinfo=timezone.utc), timedelta(hours=1))
>>> a, b = reference_range(ReferenceSpec(kind="seasonal", windows=1), w)
>>> a.isoformat(), b.isoformat()
('2026-01-01T10:00:00+00:00', '2026-01-01T11:00:00+00:00')
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import shlex
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from driftscope.durations import as_utc
from driftscope.errors import ConfigError
from driftscope.monitor.config import ReferenceSpec
from driftscope.monitor.frame import (
    Frame,
    Sampled,
    Source,
    _np_time,
    concat,
    read_dataset,
    read_events,
)
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.store.samples import floor_window
from driftscope.store.versions import serving_versions
from driftscope.types import Window

log = logging.getLogger("driftscope.monitor")

AHEAD = 64
"""A versioned reference asks which version served a window for this many windows at a
time: a backfill's next windows (one query, 6 ms, where one a window cost 6 ms each)."""


MODEL = "\x00model"
"""Where a reader keeps the model's first windows (``initial``), beside each version's."""


BEHIND = 16
"""… and the windows before it: those the persistence check reads (its default baseline
of 12 and the 2 before), and a labelled window under a ``label_delay`` (one query a
pass, where each such window was one)."""


def reference_range(
    spec: ReferenceSpec, window: Window, initial: tuple[datetime, datetime] | None = None
) -> tuple[datetime, datetime]:
    """The time range a window's reference covers (not for ``dataset`` references).

    ``initial`` is the span of the model's first windows of data (``initial`` references;
    None while there are not enough: the range then ends after the window).
    """
    if spec.kind == "initial":
        return initial or (window.start, window.end + spec.width * window.size)
    if spec.kind == "fixed":
        assert spec.start is not None and spec.end is not None
        return spec.start, spec.end
    if spec.kind == "previous":
        return window.start - spec.width * window.size, window.start
    if spec.kind == "seasonal":
        w = spec.width
        before = (w - 1) // 2
        after = w - 1 - before
        centre = window.start - spec.period
        return centre - before * window.size, centre + (after + 1) * window.size
    raise ValueError(f"a {spec.kind} reference has no time range")


HOLD = 2
"""A sliding ``previous`` reference looks back over up to this many times its width for
windows that were not unlike the normal (drift, a data fault), and keeps the latest
``windows`` of them; with fewer than half its width among them, the change has lasted
long enough to be the new normal, and the plain range serves."""


def reference_windows(
    spec: ReferenceSpec, window: Window, unlike: set[datetime] | frozenset[datetime],
    filled: Callable[[datetime, datetime], Collection[datetime]] | None = None,
) -> list[datetime] | None:
    """The starts of the windows a sliding reference (``previous``, ``seasonal``) is read
    from, leaving out those judged unlike the normal (``unlike``: drift, a data fault) —
    or None: its plain time range (nothing to leave out, another kind, or too few left).

    ``filled(a, b)``: the starts of the windows from ``a`` to before ``b`` that hold
    events (``min_events``); a ``previous`` reference counts only those, and needs half
    its width of them to be like the normal (more than half, in a stream younger than its
    width: one of two is no normal to hold the other to). Before, the slots before a model's
    first event counted as normal windows: a chance flag in a young stream's second
    window left its third judged against its first alone, flagged too, and so on for 20
    windows (200 events of a reference where 2,400 were there).

    Before, an incident stayed inside the reference after it ended and its clean windows
    were flagged (12 of them after a 3-hour incident, with ``previous``), and a lasting
    change was the normal 10 windows after it began, its alert "recovered" while it was
    still there; now it is flagged for up to 1.5 times the width before it is learnt. A
    ``seasonal`` reference takes the same phase one period earlier in place of a window
    left out.

    >>> from datetime import datetime, timedelta, timezone
    >>> w = Window("m", datetime(2026, 1, 2, 10, tzinfo=timezone.utc), timedelta(hours=1))
    >>> spec = ReferenceSpec(kind="previous", windows=4)
    >>> [t.hour for t in reference_windows(spec, w, {w.start - w.size})]
    [8, 7, 6, 5]
    """
    if not unlike or spec.kind not in ("previous", "seasonal"):
        return None
    if spec.kind == "previous":
        looked = [window.start - i * window.size for i in range(1, HOLD * spec.width + 1)]
        if not unlike.intersection(looked[: spec.width]):
            return None
        if filled is not None:
            held = set(filled(looked[-1], window.start))
            looked = [t for t in looked if t in held]
        kept = [t for t in looked if t not in unlike][: spec.width]
        # (a young stream, fewer windows than the width: more than half of them)
        enough = 2 * len(kept) >= spec.width if len(looked) >= spec.width \
            else 2 * len(kept) > len(looked)
        return kept if enough else None
    first = reference_range(spec, window)[0]
    looked = [first + i * window.size for i in range(spec.width)]
    if not unlike.intersection(looked):
        return None
    # a window left out is the same phase one period earlier (dropped, its neighbours of
    # another phase made the reference: a clean window flagged a day after an incident)
    kept = [t if t not in unlike else t - spec.period for t in looked]
    kept = [t for t in kept if t not in unlike]
    return kept or None


def reference_key(spec: ReferenceSpec) -> str:
    """A stable description of the reference used in result fingerprints."""
    data = spec.model_dump(mode="json", exclude_defaults=False)
    if not spec.per_version:  # (added later: the fingerprints of the rows before stay)
        del data["per_version"]
    return json.dumps(data, sort_keys=True)


def is_static(spec: ReferenceSpec) -> bool:
    """Fixed ranges, datasets and the initial windows do not move: fit once, reuse."""
    return spec.kind in ("fixed", "dataset", "initial")


class ReferenceReader:
    """Reads reference frames (without labels: no check reads a reference's); static
    references are read once per reader, and :meth:`version` digests what was read."""

    def __init__(self, store: Store, model_id: str, names: Sequence[str],
                 min_events: int = 1, source: Source = None,
                 served: dict[tuple[object, ...], dict[datetime, str | None]] | None = None,
                 versions: bool = False) -> None:
        self.store = store
        self.model_id = model_id
        self.names = list(names)
        self.versions = versions  # (frames with the model version segment: read_frame)
        self.min_events = min_events
        self.source = source  # a model logged without raw events: samples or profiles
        self._static: dict[str, Frame] = {}
        self._versions: dict[str, str] = {}
        # window start: the version serving it (by all its events, by its on-time ones),
        # shared by the pass's readers of the model (``served``: the pass's, by model)
        self._shared = {} if served is None else served
        self._candidates: dict[tuple[str, timedelta], list[datetime]] = {}
        self._before: dict[str, str | None] = {}  # a version: the one that served before it
        self._stand_ins: dict[str, Frame] = {}  # a version's reference, for the one after it
        self._newest: str | None = None  # the version serving the model's latest window
        self._firsts: dict[str, list[datetime]] = {}  # a version's first windows (or MODEL)
        self._warned: set[str] = set()
        self._began: dict[timedelta, datetime] = {}  # the model's first window, by size

    def frame(self, spec: ReferenceSpec, window: Window, source: Frame | None = None,
              unlike: set[datetime] | frozenset[datetime] = frozenset(),
              fallen: set[datetime] | frozenset[datetime] = frozenset()) -> Frame:
        """The reference frame of ``window``; ``source`` may already hold the range;
        ``unlike``: windows left out of a sliding reference (:func:`reference_windows`);
        ``fallen``: windows whose volume fell, not a seasonal volume expectation."""
        key = self._key(spec, window)
        if is_static(spec) and key in self._static:
            return self._static[key]
        if spec.by_version and self.version_of(spec, window) is None:
            # a window without events (a silence's): no version, nothing to score (not
            # kept: another window without a version shares its key)
            return self._nothing(window)
        if spec.kind == "dataset":
            name = self.dataset(spec, window)
            frame = read_dataset(self.store, self.model_id, name, self.names,
                                 self.versions)
            if frame.n == 0 and not self._superseded(spec, window, name):
                raise self._no_dataset(name, spec, self.served(window), window)
            if 0 < frame.n < self.min_events and \
                    not self._superseded(spec, window, name, frame.n):
                # (too few to score any drift against: before, every window went
                # unjudged for drift, and nothing said so)
                raise self._small_dataset(name, spec, window, frame.n)
        else:
            first = self._initial(spec, window)
            start, end = reference_range(
                spec, window, (first[0], first[-1] + window.size) if first else None)
            kept = reference_windows(spec, window, unlike, lambda a, b: [
                t for t in self._candidate_windows(window.size, a, HOLD * spec.width)
                if t < b])
            if spec.kind == "previous" and kept is not None:
                start = min(start, *kept)  # (up to twice its width back: one read)
            if spec.kind == "initial" and window.start < end:
                # inside the initial windows (or before any): nothing to compare with yet
                return self._nothing(window)
            # the initial windows as they were when they closed: events that came after
            # (a replay of old data, a straggler days later) do not change the reference
            if spec.by_version and first:  # its version's windows only (not a rollback's
                # between them: each run of them read on its own, not the months between)
                frame = self._read_windows(first, window.size, source)
            else:
                frame = self._read(start, end, source, on_time=spec.kind == "initial")
            phase = None
            if spec.kind == "seasonal":  # (its volume expectation: nothing is left out)
                phase = self._phase(spec, window, frame, source, fallen)
            if kept is not None:
                # a seasonal window left out is the same phase one period earlier: read on
                # its own (one read from there on held a week of events for three windows)
                for t in sorted((t for t in kept if t < start), reverse=True):
                    frame = concat(self._read(t, t + window.size, source), frame)
                frame = _within(frame, kept, window.size)
            elif spec.kind == "seasonal" and not complete(frame, start, end, spec.width):
                filled = self._filled(spec, window, start, frame, unlike, source) \
                    if self._covers_span(window.size, start) else None
                if filled is None:  # the first cycle: a partial day is not that phase
                    frame = frame.between(start, start)
                    phase = None
                else:  # an hour without events in it (night, an outage): not blind
                    frame = filled
            if phase is not None:
                frame = replace(frame, phase_n=phase)
            if spec.kind == "fixed" and frame.n < self.min_events and window.start >= end:
                raise self._empty_range(start, end, frame.n)  # (a typo in its dates)
        if is_static(spec):
            self._static[key] = frame
        return frame

    def _covers_span(self, size: timedelta, start: datetime) -> bool:
        """Whether the model's data reaches back to ``start`` (a seasonal reference's
        first window): its first window of ``size`` with ``min_events`` events begins
        there or before. (Read once a reader; a stray early event does not count.)"""
        if size not in self._began:
            first = self._candidate_windows(size, None, 1)
            if not first:
                return False
            self._began[size] = first[0]
        return self._began[size] <= start

    def _filled(self, spec: ReferenceSpec, window: Window, start: datetime, frame: Frame,
                unlike: set[datetime] | frozenset[datetime], source: Frame | None
                ) -> Frame | None:
        """A seasonal reference (``frame``, its range from ``start``) one of whose windows
        holds no event, once the data covers its span: its windows that hold events, and
        in place of an empty one the same phase one period earlier (read on its own; left
        out where it is empty too, or was judged unlike the normal) — None when fewer than
        ``min_events`` events remain. Before, such a window was not judged at all: every
        day, the first and last hour of traffic that stops at night (their references
        reach into the night), and the three windows around an outage a period later."""
        size = window.size
        kept: list[datetime] = []
        earlier: list[Frame] = []
        for t in (start + i * size for i in range(spec.width)):
            if frame.between(t, t + size).n:
                kept.append(t)
            elif t - spec.period < start and t - spec.period not in unlike:
                part = self._read(t - spec.period, t - spec.period + size, source)
                if part.n:
                    kept.append(t - spec.period)
                    earlier.append(part)
        if not kept:
            return None
        filled = _within(functools.reduce(concat, [*earlier, frame]), sorted(kept), size)
        return filled if filled.n >= self.min_events else None

    def _read_windows(self, starts: Sequence[datetime], size: timedelta,
                      source: Frame | None) -> Frame:
        """The on-time events of the windows starting at ``starts`` (in order): each run of
        consecutive ones read on its own."""
        return functools.reduce(concat, [self._read(a, b, source, on_time=True)
                                         for a, b in runs(starts, size)])

    def stand_in(self, spec: ReferenceSpec, window: Window) -> Frame | None:
        """For a window inside its version's first windows (``initial`` per version, which
        has no reference of its own yet): the reference of the version that served before
        it (:meth:`_predecessor`) — None when there is none (a version without an
        earlier one, or whose first windows are not all in). A broken deploy (a feature
        null in half the events) is then found by the column checks in its first window,
        not learnt as its normal unseen."""
        if not (spec.kind == "initial" and spec.per_version):
            return None
        version = self.version_of(spec, window)
        if not version:
            return None
        before = self._predecessor(spec, window, version)
        if before is None:
            return None
        if before not in self._stand_ins:  # (not kept as that version's reference: a
            # window of it inside its own first windows after a rollback has none)
            first = self._firsts_of(spec, window, before)
            if first is None:
                return None
            self._stand_ins[before] = self._read_windows(first, window.size, None)
        return self._stand_ins[before]

    def _predecessor(self, spec: ReferenceSpec, window: Window, version: str) -> str | None:
        """The version that served before ``version`` began (its first event in the
        collector's ``model_versions``): the one that served the latest of the
        :data:`BEHIND` windows before that on time ("" for events without a version) —
        else, after a longer gap, of the versions that began earlier the one whose events
        came last (a rollback to it since may make that another)."""
        if version not in self._before:
            event = self._first_event(version)
            found = None
            if event is not None:
                first = floor_window(event, window.size)
                for j in range(1, BEHIND + 1):
                    got = self.version_of(spec, replace(window, start=first - j * window.size))
                    if got is not None and got != version:
                        found = got
                        break
            if found is None and event is not None:
                V = S.MODEL_VERSIONS
                rows = self.store.query(
                    f"SELECT v FROM (SELECT {V.model_version} AS v, min({V.first_seen}) AS a, "
                    f"max({V.last_seen}) AS b FROM {V} WHERE {V.model_id} = {{m:String}} "
                    f"GROUP BY v) WHERE a < {{f:DateTime64(3, 'UTC')}} "
                    f"ORDER BY b DESC, v LIMIT 1", {"m": self.model_id, "f": event})
                found = str(rows[0][0]) if rows else None
            self._before[version] = found
        return self._before[version]

    def _nothing(self, window: Window) -> Frame:
        """An empty frame of the reference's columns: no reference for ``window``."""
        return read_events(self.store, self.model_id, window.start, window.start,
                           self.names, source=self.source, versions=self.versions)

    def _read(self, start: datetime, end: datetime, source: Frame | None,
              on_time: bool = False) -> Frame:
        """The events of [start, end): from ``source`` when it holds them all."""
        if source is not None and _covers(source, start, end) and not on_time:
            return source.between(start, end)
        return read_events(self.store, self.model_id, start, end, self.names,
                           source=self.source, on_time=on_time, versions=self.versions)

    def _phase(self, spec: ReferenceSpec, window: Window, frame: Frame, source: Frame | None,
               fallen: set[datetime] | frozenset[datetime]) -> int:
        """A seasonal reference's expected count: the events of the window one period
        before ``window`` — or two, where that one's volume fell (an outage) — as its
        reference range read (``frame``) or read on its own."""
        t = window.start - spec.period
        if t in fallen:  # (an outage's hours set the next day's expectation: all flagged)
            t -= spec.period
        part = frame if frame.bounds and frame.bounds[0] <= t else \
            self._read(t, t + window.size, source)
        return part.between(t, t + window.size).n

    def dataset(self, spec: ReferenceSpec, window: Window) -> str:
        """The name of the dataset ``window`` is compared with (``dataset`` references):
        with ``{model_version}`` in it, that of the version that served the window, ""
        when no event of it carries a version."""
        assert spec.dataset is not None
        if not spec.versioned:
            return spec.dataset
        version = self.served(window)
        return spec.dataset_for(version) if version else ""

    def whose(self, spec: ReferenceSpec, window: Window) -> dict[str, str]:
        """With a reference per version, which one ``window``'s drift rows were judged
        against (details ``reference_dataset``, or ``reference_model_version``: the
        version whose first windows an ``initial`` one read); else nothing."""
        if spec.versioned:
            named = self.dataset(spec, window)
            return {"reference_dataset": named} if named else {}
        version = self.version_of(spec, window) if spec.by_version else None
        return {"reference_model_version": version} if version is not None else {}

    def served(self, window: Window, on_time: bool = False) -> str | None:
        """The version that served ``window`` (:func:`~driftscope.store.versions.
        serving_versions`, asked for the :data:`BEHIND` windows before and the
        :data:`AHEAD` from it at once, once per window a pass, shared by the model's
        readers): "" when its events carry none, None when it has none; ``on_time``: by
        the events that came while it was open."""
        sample = (self.source.seconds, self.source.k) \
            if isinstance(self.source, Sampled) else None
        served = self._shared.setdefault((self.model_id, sample, on_time, window.size), {})
        if window.start not in served:  # (and the windows around it: one query)
            near = [window.start + i * window.size for i in range(-BEHIND, AHEAD)]
            got = serving_versions(self.store, self.model_id, near[0],
                                   near[-1] + window.size, window.size, sample, on_time)
            served.update({t: got.get(t) for t in near if t not in served})
        return served[window.start]

    def version_of(self, spec: ReferenceSpec, window: Window) -> str | None:
        """The version ``window`` is judged as: for an ``initial`` reference per version,
        by the events that came on time, as the reference reads them, so that a late
        batch does not change a version's first windows once they are judged; else by all
        its events (:meth:`served`)."""
        return self.served(window, on_time=spec.kind == "initial" and spec.per_version)

    def _superseded(self, spec: ReferenceSpec, window: Window, name: str,
                    held: int = 0) -> bool:
        """Whether a window without its version's dataset (or without a version) was
        served by a version that no longer serves: it is then not scored for drift, with
        one WARNING a pass, and the windows after it go on (a monitor added to a model
        with a history of versions whose training sets are gone). A window of the version
        serving now waits for its dataset instead: the upload usually follows a deploy.
        ``held``: the dataset is uploaded but holds only that many rows, fewer than
        ``min_events``."""
        if not spec.versioned:
            return False
        if self._newest is None:
            W = S.WINDOWS
            rows = self.store.query(
                f"SELECT max({W.window_start}) FROM {W} WHERE {W.model_id} = {{m:String}} "
                f"AND {W.window_seconds} = {{s:UInt32}} HAVING count() > 0",
                {"m": self.model_id, "s": int(window.size.total_seconds())})
            last = Window(self.model_id, as_utc(rows[0][0]), window.size) if rows else window
            self._newest = self.served(last)
        version = self.served(window)
        if not self._newest or version == self._newest:
            return False
        if name not in self._warned:
            self._warned.add(name)
            what = (f"dataset {name!r} holds {held} rows, fewer than "
                    f"min_events={self.min_events}" if held and version else
                    f"no dataset {name!r} is uploaded" if version else
                    "none of its events carries a model_version")
            log.warning(
                "reference %r of model %r: version %r served the window %s UTC and %s: "
                "version %r's windows are not scored for drift, as version %r serves now "
                "(upload it and run `driftscope backfill` over them to score them)",
                spec.dataset, self.model_id, version, f"{window.start:%Y-%m-%d %H:%M}", what,
                version, self._newest)
        return True

    def _key(self, spec: ReferenceSpec, window: Window) -> str:
        """What a static reference's frame is kept by: its spec, and with a reference per
        version the window's dataset, or the version that served it."""
        key = reference_key(spec)
        if spec.versioned:
            return f"{key}\x1f{self.dataset(spec, window)}"
        return f"{key}\x1f{self.version_of(spec, window)}" if spec.by_version else key

    def version(self, spec: ReferenceSpec, window: Window) -> str | None:
        """The digest of the static reference frame this reader holds for ``window``
        (:func:`content`, once per reader: a pass), None when it holds none: what its fits
        are kept by."""
        key = self._key(spec, window)
        frame = self._static.get(key)
        if frame is None:
            return None
        if key not in self._versions:
            self._versions[key] = content(frame)
        return self._versions[key]

    def _initial(self, spec: ReferenceSpec, window: Window) -> list[datetime] | None:
        """Starts of the model's first ``width`` closed windows of this size holding at
        least ``min_events`` events (``initial`` only), so that a stray early event cannot
        move them; ``per_version``: of those the version that served ``window`` served
        (:meth:`served`). None while there are not that many yet."""
        if spec.kind != "initial":
            return None
        version = self.version_of(spec, window) if spec.per_version else None
        return self._firsts_of(spec, window, MODEL if version is None else version)

    def _firsts_of(self, spec: ReferenceSpec, window: Window, key: str
                   ) -> list[datetime] | None:
        """The first ``width`` windows of the size of ``window`` with ``min_events``
        events that version ``key`` served (:data:`MODEL`: of the model), kept once
        complete (once a reader); None while there are fewer."""
        if key not in self._firsts:
            starts = (self._candidate_windows(window.size, None, spec.width) if key == MODEL
                      else self._first_windows(spec, window, key))
            if len(starts) < spec.width:
                return None
            self._firsts[key] = starts
        return self._firsts[key]

    def _first_windows(self, spec: ReferenceSpec, window: Window, version: str
                       ) -> list[datetime]:
        """Up to ``width`` of the first windows ``version`` served (by their on-time
        events) that hold ``min_events`` events: the model's windows from its first event
        on (read once a reader), asked lazily which version served them."""
        key = (version, window.size)
        if key not in self._candidates:
            self._candidates[key] = []
        seen = self._candidates[key]  # (read a page at a time: a year of windows is long)
        since = self._first_seen(version, window.size) if not seen else None
        page = max(4 * spec.width, AHEAD)
        while True:
            starts = [t for t in seen
                      if self.version_of(spec, replace(window, start=t)) == version]
            if len(starts) >= spec.width or (seen and len(seen) % page):
                return starts[:spec.width]  # (enough, or no more windows)
            more = self._candidate_windows(window.size, since, page,
                                           after=seen[-1] if seen else None)
            if not more:
                return starts
            seen += more

    def _candidate_windows(self, size: timedelta, since: datetime | None, limit: int,
                           after: datetime | None = None) -> list[datetime]:
        """Starts of the model's closed windows of ``size`` holding at least
        ``min_events`` events, from ``since`` (or after ``after``), in time order (at most
        ``limit``)."""
        W = S.WINDOWS
        rows = self.store.query(
            f"SELECT {W.window_start} FROM {W} WHERE {W.model_id} = {{m:String}} "
            f"AND {W.window_seconds} = {{s:UInt32}} "
            + (f"AND {W.window_start} >= {{a:DateTime64(3, 'UTC')}} " if since else "")
            + (f"AND {W.window_start} > {{b:DateTime64(3, 'UTC')}} " if after else "")
            + f"GROUP BY {W.window_start} HAVING max({W.n_events}) >= {{n:UInt64}} "
            f"ORDER BY {W.window_start} LIMIT {{k:UInt32}}",
            {"m": self.model_id, "s": int(size.total_seconds()), "n": self.min_events,
             "k": limit, **({"a": since} if since else {}), **({"b": after} if after else {})})
        return [as_utc(r[0]) for r in rows]

    def _first_seen(self, version: str, size: timedelta) -> datetime | None:
        """The start of the window of ``version``'s first on-time event."""
        event = self._first_event(version)
        return None if event is None else floor_window(event, size)

    def _first_event(self, version: str) -> datetime | None:
        """The time of ``version``'s first on-time event (the collector's
        ``model_versions``), None when it has none there."""
        V = S.MODEL_VERSIONS
        rows = self.store.query(
            f"SELECT min({V.first_seen}) FROM {V} WHERE {V.model_id} = {{m:String}} "
            f"AND {V.model_version} = {{v:String}} HAVING count() > 0",
            {"m": self.model_id, "v": version})
        return as_utc(rows[0][0]) if rows else None

    def _empty_range(self, start: datetime, end: datetime, n: int) -> ConfigError:
        """A fixed range, over, that holds too few events to be anyone's normal: without
        this, every window went unjudged for drift and nothing said so."""
        W = S.WINDOWS
        rows = self.store.query(
            f"SELECT min({W.window_start}), max({W.window_end}), count() FROM {W} "
            f"WHERE {W.model_id} = {{m:String}}", {"m": self.model_id})
        first, last, windows = rows[0] if rows else (None, None, 0)
        held = (f"its windows run from {as_utc(first):%Y-%m-%d %H:%M} to "
                f"{as_utc(last):%Y-%m-%d %H:%M} UTC" if windows else "it has no windows yet")
        return ConfigError(
            f"the fixed reference {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC of model "
            f"{self.model_id!r} holds {n} events, fewer than min_events={self.min_events} "
            f"({held}): check its start and end"
        )

    def _no_dataset(self, name: str, spec: ReferenceSpec, version: str | None,
                    window: Window) -> ConfigError:
        at = f"{window.start:%Y-%m-%d %H:%M} UTC"
        if spec.versioned and not version:
            return ConfigError(
                f"reference dataset {spec.dataset!r} of model {self.model_id!r} is named by "
                f"the version that served the window, and no event of the window {at} "
                "carries a model_version: log it (PredictionLogger(model_version=...)) or "
                "name one dataset")
        served = f" ({spec.dataset!r} for version {version!r}, which served the window " \
            f"{at})" if spec.versioned else ""
        return not_uploaded(self.store, self.model_id, name, served)

    def _small_dataset(self, name: str, spec: ReferenceSpec, window: Window,
                       rows: int) -> ConfigError:
        """A dataset uploaded with fewer rows than ``min_events``: no drift can be scored
        against it (a fixed range that holds too few events is the same error)."""
        served = (f" ({spec.dataset!r} for version {self.served(window)!r}, which served "
                  f"the window {window.start:%Y-%m-%d %H:%M} UTC)" if spec.versioned else "")
        return ConfigError(
            f"reference dataset {name!r}{served} of model {self.model_id!r} holds {rows} "
            f"row{'s' if rows > 1 else ''}, fewer than min_events={self.min_events}: no "
            f"drift can be scored against it; upload a larger one with `driftscope "
            f"reference upload --model {shlex.quote(self.model_id)} --name "
            f"{shlex.quote(name)} FILE`, or lower min_events")


def not_uploaded(store: Store, model_id: str, name: str, served: str = "") -> ConfigError:
    """The one-line error of a reference dataset ``name`` that holds no row, naming the
    model's uploaded datasets; ``served``: what named it (a version's, and its window)."""
    R = S.REFERENCES
    rows = store.query(f"SELECT DISTINCT {R.name} FROM {R} WHERE {R.model_id} = {{m:String}} "
                       f"ORDER BY {R.name}", {"m": model_id})
    known = ", ".join(repr(r[0]) for r in rows) or "none"
    return ConfigError(
        f"reference dataset {name!r}{served} of model {model_id!r} is empty or was "
        f"never uploaded (uploaded: {known}); "
        f"upload it with `driftscope reference upload --model "
        f"{shlex.quote(model_id)} --name {shlex.quote(name)} FILE`"
    )


def runs(starts: Sequence[datetime], size: timedelta) -> list[tuple[datetime, datetime]]:
    """The time ranges of runs of consecutive windows among ``starts`` (in order).

    >>> from datetime import datetime, timedelta, timezone
    >>> t, h = datetime(2026, 1, 1, tzinfo=timezone.utc), timedelta(hours=1)
    >>> [(a.hour, b.hour) for a, b in runs([t, t + h, t + 5 * h], h)]
    [(0, 2), (5, 6)]
    """
    spans: list[tuple[datetime, datetime]] = []
    for t in starts:
        if spans and spans[-1][1] == t:
            spans[-1] = (spans[-1][0], t + size)
        else:
            spans.append((t, t + size))
    return spans


def _within(frame: Frame, starts: Sequence[datetime], size: timedelta) -> Frame:
    """The events of ``frame`` in the windows starting at ``starts``."""
    keep = np.zeros(frame.n, dtype=bool)
    for t in starts:
        lo, hi = np.searchsorted(frame.timestamps, [_np_time(t), _np_time(t + size)])
        keep[int(lo):int(hi)] = True
    return replace(frame.take(np.flatnonzero(keep)), bounds=(min(starts), max(starts) + size))


def complete(frame: Frame, start: datetime, end: datetime, parts: int) -> bool:
    """Whether each of the ``parts`` equal slices of [start, end) holds events.

    A seasonal reference that is only partly there (the first day of data) would compare
    a window with neighbouring hours only; it is treated as missing instead.
    """
    step = (end - start) / parts
    return all(frame.between(start + i * step, start + (i + 1) * step).n > 0
               for i in range(parts))


def _covers(frame: Frame, start: datetime, end: datetime) -> bool:
    """Whether a chunk frame certainly holds every event of [start, end)."""
    b = frame.bounds
    return b is not None and b[0] <= start and end <= b[1]


def content(frame: Frame) -> str:
    """A digest of a frame's events, whatever their order: its count and the sum of each
    event's hash of its time, columns and segments. (A dataset uploaded without
    timestamps has every row at one time, and a read orders it by time only.) About 5 ms
    a million numbers, 40 ms a million strings: a small share of reading them."""
    rows = pd.util.hash_array(frame.timestamps)
    named = sorted(frame.columns.items()) + sorted(frame.segments.items())
    for _, values in named:  # (uint64 arithmetic wraps: a hash of the row's fields)
        rows = rows * np.uint64(0x100000001B3) ^ pd.util.hash_array(values)
    total = int(np.sum(rows, dtype=np.uint64)) if frame.n else 0
    return digest(str(frame.n), str(total), *(name for name, _ in named))


def digest(*parts: str) -> str:
    """A short, stable hash of strings (fingerprints, ids)."""
    h = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return h[:16]
