"""Collector throughput and memory, against a bare kafka-python consumer in the same run.

Events carry 20 numeric and 5 categorical features. One topic (4 partitions) on the local
broker is filled once; then each contender reads all of it in its own child process:

* ``bare``    — kafka-python consumer that only ``json.loads`` each message;
* ``raw``     — the collector, raw rows only, until every event is durable in chDB;
* ``profile`` — the collector, whylogs profiles only, until durable;
* ``all``     — raw + profile + sample together.

Rates are events per second from the first message consumed to the last one durable
(group join excluded); peak RSS is the child's ``ru_maxrss`` (it includes chDB, which runs
in-process). whylogs' own profiling rate on a DataFrame is reported for reference.

Usage::

    .venv/bin/python benchmarks/collector.py --events 1000000 --write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CATS = ["red", "green", "blue", "amber", "violet"]


def make_events(n: int, seed: int = 0) -> list[bytes]:
    """n JSON events: 20 numeric + 5 categorical features, one numeric prediction."""
    rng = np.random.default_rng(seed)
    num = np.round(rng.normal(size=(n, 20)), 4)
    cat = rng.integers(0, len(CATS), size=(n, 5))
    out = []
    for i in range(n):
        ts = 1_767_225_600 + i * 3600 / n
        features: dict[str, Any] = {f"x{j}": float(num[i, j]) for j in range(20)}
        features.update({f"c{j}": CATS[cat[i, j]] for j in range(5)})
        ev = {
            "model_id": "bench",
            "event_id": f"b{i}",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
            + f".{int(ts * 1000) % 1000:03d}Z",
            "features": features,
            "predictions": {"score": float(abs(num[i, 0]) % 1)},
        }
        out.append(json.dumps(ev).encode())
    return out


def fill(bootstrap: str, topic: str, n: int) -> float:
    """Produce n events; return the seconds it took."""
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=[bootstrap], linger_ms=20, batch_size=512_000, acks=1
    )
    t0 = time.perf_counter()
    chunk = 100_000
    for start in range(0, n, chunk):
        for raw in make_events(min(chunk, n - start), seed=start):
            producer.send(topic, value=raw)
    producer.flush()
    producer.close()
    return time.perf_counter() - t0


def run_bare(bootstrap: str, topic: str, n: int) -> float:
    """Seconds for a plain consumer to read and json.loads n messages."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    seen, t0 = 0, None
    while seen < n:
        for msgs in consumer.poll(timeout_ms=200, max_records=5000).values():
            if t0 is None:
                t0 = time.perf_counter()
            for m in msgs:
                json.loads(m.value)
            seen += len(msgs)
    consumer.close()
    return time.perf_counter() - (t0 or 0)


def run_collector(bootstrap: str, topic: str, n: int, modes: list[str], batch: int) -> float:
    """Seconds for the collector to make n events durable in a fresh chDB store."""
    from driftscope.collector.service import Collector
    from driftscope.config import Config
    from driftscope.store.clickhouse import Store

    cfg = Config.model_validate(
        {
            "kafka": {
                "bootstrap_servers": bootstrap,
                "topic": topic,
                "dead_letter_topic": f"{topic}.dlq",
                "group_id": f"bench-{uuid.uuid4().hex}",
            },
            "collector": {"batch_size": batch, "flush_interval": "1s"},
            "models": [{"id": "bench", "logging": modes, "window": "5m", "sample_size": 1000}],
        }
    )
    store = Store(f"chdb://{tempfile.mkdtemp(prefix='bench-')}/db", database="bench")
    c = Collector(cfg, store, kafka_options={"bootstrap_servers": [bootstrap]})
    c.start()
    t0 = None
    while sum(c.durable_offsets.values()) < n:
        got = c.poll_once(timeout_ms=100)
        if got and t0 is None:
            t0 = time.perf_counter()
    elapsed = time.perf_counter() - (t0 or 0)
    c.close()
    assert store.count("window_parts") > 0
    return elapsed


def whylogs_rate(n: int = 100_000) -> float:
    """Rows per second of whylogs profiling alone (the collector's schema)."""
    import pandas as pd

    from driftscope.collector.profiling import profile_bytes

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(20)})
    for j in range(5):
        frame[f"c{j}"] = rng.choice(CATS, size=n).astype(object)
    kinds = {f"x{j}": "numeric" for j in range(20)} | {f"c{j}": "categorical" for j in range(5)}
    records = frame.to_dict("records")
    t0 = time.perf_counter()
    profile_bytes(records, kinds)
    return n / (time.perf_counter() - t0)


def child(args: argparse.Namespace) -> None:
    if args.child == "bare":
        secs = run_bare(args.bootstrap, args.topic, args.events)
    else:
        modes = ["raw", "profile", "sample"] if args.child == "all" else [args.child]
        secs = run_collector(args.bootstrap, args.topic, args.events, modes, args.batch)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rate": args.events / secs, "seconds": secs, "rss_mb": rss_mb}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5000, help="collector.batch_size")
    ap.add_argument("--modes", default="bare,raw,profile,all")
    ap.add_argument("--write", action="store_true", help="update ## Collector in BENCHMARKS.md")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--bootstrap", help=argparse.SUPPRESS)
    ap.add_argument("--topic", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    from driftscope.broker import LocalBroker, ensure_topics

    results: dict[str, dict[str, float]] = {}
    with LocalBroker() as broker:
        topic = f"bench.{uuid.uuid4().hex[:8]}"
        ensure_topics(broker.bootstrap, [topic, f"{topic}.dlq"], partitions=4)
        fill_s = fill(broker.bootstrap, topic, args.events)
        print(f"produced {args.events:,} events in {fill_s:.1f} s", flush=True)
        for mode in args.modes.split(","):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    mode,
                    "--bootstrap",
                    broker.bootstrap,
                    "--topic",
                    topic,
                    "--events",
                    str(args.events),
                    "--batch",
                    str(args.batch),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
            results[mode] = json.loads(out.strip().splitlines()[-1])
            print(mode, results[mode], flush=True)
    wl = whylogs_rate()
    print(f"whylogs alone: {wl:,.0f} rows/s")
    table = report(args, results, wl)
    print(table)
    if args.write:
        write_section(ROOT / "BENCHMARKS.md", table)


def report(args: argparse.Namespace, results: dict[str, dict[str, float]], wl: float) -> str:
    bare = results.get("bare", {}).get("rate")
    lines = [
        "## Collector",
        "",
        f"Command: `.venv/bin/python benchmarks/collector.py --events {args.events}"
        f" --batch {args.batch} --write` ({platform.machine()}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}). Local Tansu broker,"
        " chDB in-process, 4 partitions, 20 numeric + 5 categorical features per event.",
        "",
        "| reader | events/s | × bare | seconds | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|",
    ]
    names = {
        "bare": "bare kafka-python + json.loads",
        "raw": "collector, raw",
        "profile": "collector, profile",
        "all": "collector, raw + profile + sample",
    }
    for mode, r in results.items():
        ratio = f"{r['rate'] / bare:.2f}" if bare else "–"
        lines.append(
            f"| {names.get(mode, mode)} | {r['rate']:,.0f} | {ratio} | "
            f"{r['seconds']:.1f} | {r['rss_mb']:,.0f} |"
        )
    lines += [
        "",
        f"whylogs profiling alone (collector schema, 100,000 rows): {wl:,.0f} rows/s.",
        "",
        "Rates run from the first message consumed to the last one durable in the store "
        "(group join excluded). Each reader runs in its own process, one after the other, "
        "on the same topic; peak RSS is that process's `ru_maxrss` and includes chDB, which "
        "runs in-process. The collector uses its defaults (batch 5,000, flush 1 s) and keeps "
        "kafka-python's CRC checks on, like the bare consumer (kafka-python's pure-Python "
        "CRC-32C is a large share of both).",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replace (or append) the ``## Collector`` section, leaving the others alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    start = text.find("## Collector")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + 1)
        text = text[:start] + section + ("\n" + text[nxt + 1 :] if nxt >= 0 else "")
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
