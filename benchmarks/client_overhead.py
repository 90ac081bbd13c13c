"""What PredictionLogger costs an application: CPU per event and request latency.

A request loop at a fixed rate does a little work (2,000 multiplications, a 18-feature
dict) and, except in the baseline, logs one prediction. Three modes run in turn, round
after round (each round starting with the next mode), against one embedded broker:

- ``no logging``: the request alone (the baseline);
- ``eager flush``: the logger as it was, its sender calling ``producer.flush()`` each time
  its queue was empty (reproduced here by a subclass);
- ``logger``: the logger as it is, batching left to ``linger_ms``.

Reported per rate: the median over rounds of the process CPU per request (all threads:
the app's, the sender's, kafka-python's), of the CPU the logging adds over the baseline,
and of the request latency's p50 and p99; ratios are against ``logger``.

    .venv/bin/python benchmarks/client_overhead.py --rates 200 1000 --rounds 3 --seconds 5
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import time
from typing import Any

from driftscope.broker import LocalBroker, ensure_topics
from driftscope.client import PredictionLogger


class EagerFlush(PredictionLogger):
    """The sender as it was: ``producer.flush()`` whenever its queue was momentarily
    empty (about once per event at a few hundred events a second)."""

    def _send(self, producer: Any, key: bytes | None, value: bytes) -> None:
        super()._send(producer, key, value)
        if producer is not None and self._queue.empty():
            self._flush(producer, self._left())


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def _work() -> int:
    s = 0
    for k in range(2000):
        s += k * k
    return s


def _run(logger: PredictionLogger | None, rate: int, seconds: float) -> dict[str, float]:
    """Requests at ``rate`` a second for ``seconds``: CPU µs per request, latency µs."""
    lat: list[float] = []
    n = 0
    if logger is not None:
        logger.flush(30)
    c0, t0 = _cpu(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        wait = t0 + n / rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        start = time.perf_counter_ns()
        _work()
        features = {f"f{j}": (n * j % 97) * 0.5 for j in range(15)}
        features |= {"plan": "pro", "country": "fr", "vip": True}
        if logger is not None:
            logger.log("churn", features, {"p": 0.3}, segments={"country": "fr"})
        lat.append((time.perf_counter_ns() - start) / 1e3)
        n += 1
    if logger is not None:
        assert logger.flush(30), logger.stats  # (its CPU counted: the work it was given)
    cpu = _cpu() - c0
    return {"cpu": cpu / n * 1e6, "p50": _pct(lat, 0.5), "p99": _pct(lat, 0.99), "n": n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    broker = LocalBroker().start()
    try:
        ensure_topics(broker.bootstrap, ["bench.client"], partitions=4)
        loggers: dict[str, PredictionLogger | None] = {
            "no logging": None,
            "eager flush": EagerFlush(broker.bootstrap, topic="bench.client"),
            "logger": PredictionLogger(broker.bootstrap, topic="bench.client"),
        }
        for rate in args.rates:
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in loggers}
            order = list(loggers)
            for r in range(args.rounds):  # (each mode first in turn: no order favoured)
                for name in order[r % len(order):] + order[:r % len(order)]:
                    runs[name].append(_run(loggers[name], rate, args.seconds))
            med = {name: {k: statistics.median(r[k] for r in rs) for k in ("cpu", "p50", "p99")}
                   for name, rs in runs.items()}
            base = med["no logging"]["cpu"]
            ours = med["logger"]
            print(f"\nrate {rate}/s, {args.rounds} rounds of {args.seconds:g} s, medians")
            print("| mode | CPU µs/request | CPU added µs/event | × logger | p50 µs | p99 µs "
                  "| p99 × logger |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for name, m in med.items():
                added = m["cpu"] - base
                ratio = added / (ours["cpu"] - base) if name != "no logging" else float("nan")
                print(f"| {name} | {m['cpu']:.0f} | {added:.0f} | "
                      f"{'' if name == 'no logging' else f'{ratio:.2f}'} | {m['p50']:.0f} | "
                      f"{m['p99']:.0f} | {m['p99'] / ours['p99']:.2f} |")
        for logger in loggers.values():
            if logger is not None:
                logger.close()
                s = logger.stats
                assert s.lost == 0 and s.sent == s.queued, s
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
