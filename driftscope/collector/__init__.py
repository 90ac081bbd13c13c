"""The collector: Kafka → validated events → raw rows, profiles, samples, windows.

Public API
----------
:class:`~driftscope.collector.service.Collector`
    ``Collector(config, store, *, kafka_options=None, clock=None, registry=None)`` with
    ``start()``, ``poll_once()``, ``flush()``, ``run(stop_event)`` and ``close()``.
:mod:`driftscope.collector.reader`
    What the monitor reads: closed windows, a window's rows as arrays, its merged whylogs
    profile and its bottom-k sample.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Collector"]


def __getattr__(name: str) -> Any:  # lazy: importing the package starts nothing heavy
    if name == "Collector":
        from driftscope.collector.service import Collector

        return Collector
    raise AttributeError(name)
