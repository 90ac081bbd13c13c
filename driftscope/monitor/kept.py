"""The reads a :class:`~driftscope.monitor.scheduler.Monitor` keeps for its next pass.

Each monitor's last read of raw events (its sliding reference's lead and the window
judged) is kept so that the next pass reads only its new window. All monitors' kept reads
together stay within ``monitor_process.kept_reads_bytes`` (320 MB by default), measured as
the memory their arrays hold (:func:`footprint`). A read that does not fit is not kept —
its monitor's next pass reads its whole lead from the store again (at 100,000 events a
window of 50 features, 42–63 s a pass instead of 5–9 s, docs/monitor.md) — and the process
says so once per monitor, with the size the setting would need.

The reads kept stay while their monitors run; a read that does not fit beside them is not
kept (it does not push out another's: the passes run the monitors in turn, and once the
reads did not all fit, dropping the least recently run one to make room dropped, every
pass, the read the next monitor was about to use — none was used). A read whose monitor
stopped keeping (a model retired or silent, a monitor stuck on a configuration error)
makes room, though: one not kept again while the others were kept twice over (:data:`IDLE`)
is dropped, the oldest first, for a read that does not fit beside it.
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import replace
from datetime import timedelta

import numpy as np

from driftscope.monitor.frame import Frame, Marks

log = logging.getLogger("driftscope.monitor")
SETTING = "monitor_process.kept_reads_bytes"
ENV = "DRIFTSCOPE_MONITOR_PROCESS__KEPT_READS_BYTES"
_SAMPLE = 1024  # the values of an object column whose Python objects are weighed


def _arrays(frame: Frame) -> list[np.ndarray]:
    labels = [] if frame.labels is None else [frame.labels]
    return [frame.timestamps, *frame.columns.values(), *frame.segments.values(), *labels]


def _owner(a: np.ndarray) -> np.ndarray:
    """The array holding ``a``'s memory (a view's base: a read's record array)."""
    return a.base if isinstance(a.base, np.ndarray) else a


def _objects(a: np.ndarray) -> float:
    """Bytes of the Python objects an object column's values hold: its distinct objects
    (None costs nothing), each of the mean size of those among a few values spread over
    the column. A read's strings are one object per value, shared by the rows holding it
    (:func:`driftscope.monitor.frame.one_per_value`): where some of those few are one
    object, the column's distinct objects are counted (a pass over their ids, about 7 ms
    for 100,000 rows); where none is, each value is taken to be its own (a string made per
    row: its ~50 bytes each)."""
    if not a.size:
        return 0.0
    sample = a[:: max(1, a.size // _SAMPLE)][:_SAMPLE]
    values = [x for x in sample.tolist() if x is not None]
    distinct = {id(x): x for x in values}
    if not distinct:
        return 0.0
    mean = sum(sys.getsizeof(x) for x in distinct.values()) / len(distinct)
    if len(distinct) == len(values):  # (none shared among them: each row's own)
        return a.size * len(values) / len(sample) * mean
    ids = set(map(id, a.tolist()))
    return (len(ids) - (id(None) in ids)) * mean


def footprint(frame: Frame) -> int:
    """The bytes a frame holds: each array's memory — a view's whole base, once — and the
    Python objects of its object columns (strings cost their pointer, and themselves once
    per object: a read's, once per value, :func:`_objects`)."""
    owners: dict[int, int] = {}
    objects = 0.0
    for a in _arrays(frame):
        owner = _owner(a)
        owners[id(owner)] = owner.nbytes
        if a.dtype.kind == "O" and a.size:  # (a view: as much again for its base's rows)
            objects += _objects(a) * owner.size / a.size
    return sum(owners.values()) + int(objects)


def compact(frame: Frame) -> Frame:
    """``frame`` with arrays of its own where its views hold far more than they show (the
    lead of a batch's read: the whole batch's record array stayed held, uncounted)."""
    shown = sum(a.nbytes for a in _arrays(frame))
    held = sum({id(o): o.nbytes for o in map(_owner, _arrays(frame))}.values())
    if held <= 2 * shown:
        return frame
    return replace(frame, timestamps=frame.timestamps.copy(),
                   columns={k: v.copy() for k, v in frame.columns.items()},
                   segments={k: v.copy() for k, v in frame.segments.items()},
                   labels=None if frame.labels is None else frame.labels.copy())


def filled(frame: Frame, size: int, lead: timedelta | None, window: timedelta | None) -> int:
    """About the bytes ``frame`` (``size`` bytes) will hold once its events span the
    whole ``lead`` (the windows before the next pass's): in the first passes after a model
    starts, its lead has fewer windows with events, and each pass's read is bigger."""
    if lead is None or window is None or not frame.n or frame.bounds is None:
        return size
    end = np.datetime64(frame.bounds[1].replace(tzinfo=None), "ms")
    held = max(1, math.ceil((end - frame.timestamps[0]) / np.timedelta64(window)))
    return max(size, size * int(lead // window) // held)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{n:,} bytes"


def _room(n: int) -> str:
    """A setting that holds ``n`` bytes with a quarter to spare, rounded up."""
    n = math.ceil(n * 1.25)
    if n >= 10**9:
        return f"{math.ceil(n / 10**8) / 10:g}GB"
    return f"{math.ceil(n / 10**6)}MB" if n >= 10**6 else f"{math.ceil(n / 10**3)}KB"


IDLE = 2
"""A kept read is idle once its monitor has not kept one again while the reads of all the
monitors were kept this many times over (counted in reads kept, by every monitor)."""


class KeptReads:
    """Per monitor (configuration digest): its last read and the marks it was read
    under, within ``budget`` bytes in all (0: none kept)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._reads: dict[str, tuple[Frame, Marks, int]] = {}
        self._at: dict[str, int] = {}  # the count of reads kept when each was kept
        self._count = 0
        # the reads not kept since the last tell: (monitor, events, bytes, the bytes once
        # its lead is filled, the others' bytes)
        self._refused: dict[str, tuple[str, int, int, int, int]] = {}
        self._told: set[str] = set()  # monitors told their read is not kept

    def pop(self, fp: str, default: None = None) -> tuple[Frame, Marks] | None:
        """Take a monitor's read (it is kept again, or not, once it is read anew)."""
        self._refused.pop(fp, None)
        self._at.pop(fp, None)
        got = self._reads.pop(fp, None)
        return default if got is None else (got[0], got[1])

    def clear(self) -> None:
        self._reads.clear()
        self._at.clear()

    def sizes(self) -> dict[str, int]:
        """The bytes each kept read holds, by configuration digest."""
        return {fp: size for fp, (_, _, size) in self._reads.items()}

    def keep(self, fp: str, frame: Frame, marks: Marks, monitor: str,
             lead: timedelta | None = None, window: timedelta | None = None) -> bool:
        """Keep a monitor's read for its next pass if it fits beside the others'
        (``monitor``: how :meth:`tell` names it; ``lead``, ``window``: how far back the
        read is to reach and its windows' size, to tell what it will need)."""
        self._reads.pop(fp, None)
        self._refused.pop(fp, None)
        self._count += 1
        frame = compact(frame)
        size = footprint(frame)
        others = sum(s for _, _, s in self._reads.values())
        idle = sorted((at, other) for other, at in self._at.items()
                      if other in self._reads and at < self._count - IDLE * (len(self._reads) + 1))
        while size + others > self.budget and idle and size <= self.budget:
            others -= self._reads.pop(idle.pop(0)[1])[2]
        if size + others <= self.budget:
            self._reads[fp] = (frame, marks, size)
            self._at[fp] = self._count
            return True
        self._refused[fp] = (monitor, frame.n, size, filled(frame, size, lead, window), others)
        return False

    def tell(self) -> None:
        """Warn, once per monitor, of the reads a pass could not keep (at its end: its
        monitors' last reads are what the next pass would use — a first pass's first
        batch reads less lead)."""
        for monitor, n, size, full, others in self._refused.values():
            if not self.budget or monitor in self._told:  # (0: none kept, as asked)
                continue
            self._told.add(monitor)
            beside = (f" beside the {_mb(others)} the other monitors' reads keep"
                      if others and size <= self.budget else "")
            more = f"; about {_mb(full)} once its lead is all there" if full > size else ""
            log.warning(
                "monitor %s: its read of %s events (%s%s) does not fit%s within %s (%s): "
                "it is not kept, and each pass reads its whole reference lead from the "
                "store again; raise %s (or %s) to %s or more to keep it (told once)",
                monitor, f"{n:,}", _mb(size), more, beside, SETTING, _mb(self.budget),
                SETTING, ENV, _room(full + others))
        self._refused.clear()
