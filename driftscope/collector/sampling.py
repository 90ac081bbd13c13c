"""Bottom-k sampling by a seeded hash of ``event_id``.

The sample of a window is the ``k`` events with the smallest hash (per stratum when the
model is stratified). Because the hash depends only on the event id, the sample of a
union is the bottom-k of the union of the parts' bottom-k: samples merge exactly across
partitions and collectors, and a replay after a crash selects the same events.

The collector keeps, per (model, window, stratum), the ``k`` smallest hashes it has seen
and stores an event as a *candidate* only when it enters that set. Every event of the true
bottom-k enters it when offered (fewer than ``k`` smaller hashes can have been seen), so
the candidates stored always contain the window's exact bottom-k; readers take the ``k``
smallest (:func:`driftscope.collector.reader.load_window_sample`).

Examples
--------
>>> h = sample_hash("e-1")
>>> h == sample_hash("e-1") and 0 <= h < 2**64
True
>>> b = BottomK()
>>> [b.offer(("m", 0, ""), h, 2) for h in (5, 3, 9, 1)]
[True, True, False, True]
"""

from __future__ import annotations

import heapq
from hashlib import blake2b

SAMPLE_SEED = b"driftscope/bottom-k/v1"
"""The key of the hash; changing it changes every sample."""


def sample_hash(event_id: str, seed: bytes = SAMPLE_SEED) -> int:
    """A 64-bit keyed BLAKE2b hash of the event id (an unsigned integer)."""
    return int.from_bytes(blake2b(event_id.encode(), digest_size=8, key=seed).digest(), "big")


class BottomK:
    """The k smallest hashes seen so far per key; :meth:`offer` says whether to keep one."""

    def __init__(self) -> None:
        self._heaps: dict[tuple[str, int, str], list[int]] = {}

    def offer(self, key: tuple[str, int, str], h: int, k: int) -> bool:
        """True when ``h`` is among the k smallest seen for ``key`` (it is then kept)."""
        heap = self._heaps.get(key)
        if heap is None:
            heap = self._heaps[key] = []
        if len(heap) < k:
            heapq.heappush(heap, -h)
            return True
        if h < -heap[0]:
            heapq.heapreplace(heap, -h)
            return True
        return False

    def forget(self, model_id: str, window_start: int) -> None:
        """Drop the state of a closed window (later events only become extra candidates)."""
        for key in [key for key in self._heaps if key[0] == model_id and key[1] == window_start]:
            del self._heaps[key]
