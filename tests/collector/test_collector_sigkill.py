"""SIGKILL at random moments, several times: every event still counts exactly once.

The collector runs as a child process (``driftscope collect``) that owns its chDB path;
this test never opens that path while a child runs. After the last kill a final child
catches up and is stopped with SIGTERM (graceful flush); then a short child process reads
the store and reports what the test checks: raw rows, profile merged counts, window counts
and bottom-k samples against what was produced.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import yaml
from collector_support import event, produce
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from driftscope.collector.sampling import sample_hash

K = 20
WINDOW_S = 600
CHECK = r"""
import json, sys
from driftscope.store.clickhouse import Store
from driftscope.collector import reader
store = Store(sys.argv[1], database="ds")
q = lambda sql: store.query(sql)
out = {
    "events": q("SELECT count(), uniqExact(event_id) FROM events")[0],
    "parts": q("SELECT sum(n) FROM window_parts")[0][0],
    "sample_rows": q("SELECT count(), uniqExact(event_id) FROM samples")[0],
    "windows": {}, "profiles": {}, "samples": {},
}
for w in reader.closed_windows(store, "m"):
    out["windows"][str(w.start.timestamp())] = [w.n_events, w.n_late]
starts = [r[0] for r in q("SELECT DISTINCT toUnixTimestamp64Milli(window_start) FROM window_parts")]
for ms in starts:
    view = reader.load_window_profile(store, "m", ms)
    out["profiles"][str(ms / 1000)] = view.get_column("x").get_metric("counts").n.value
    sample = reader.load_window_sample(store, "m", ms, int(sys.argv[2]))
    out["samples"][str(ms / 1000)] = list(sample.event_ids)
print(json.dumps(out))
"""


def test_sigkill_at_random_moments(broker, topic: str, tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("SIGKILL_SEED", "7")))
    dsn = f"chdb://{tmp_path / 'db'}"
    group = f"g-{uuid.uuid4().hex[:8]}"
    cfg = {
        "store": {"dsn": dsn, "database": "ds"},
        "kafka": {
            "bootstrap_servers": broker.bootstrap,
            "topic": topic,
            "dead_letter_topic": f"{topic}.dlq",
            "group_id": group,
            "partitions": 4,
            "session_timeout_ms": 3000,
            "heartbeat_interval_ms": 300,
        },
        "collector": {"batch_size": 150, "flush_interval": "0.1s", "metrics_port": 0},
        "models": [
            {
                "id": "m",
                "logging": ["raw", "profile", "sample"],
                "window": f"{WINDOW_S}s",
                "allowed_lateness": "60s",
                "sample_size": K,
            }
        ],
    }
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump(cfg))
    exe = str(Path(sys.executable).parent / "driftscope")
    events = [event(i, seconds=i * 0.4) for i in range(8000)]
    chunks = [events[i : i + 2000] for i in range(0, len(events), 2000)]
    kills, produced, mid_stream = 0, 0, 0
    t_start = time.monotonic()
    for chunk in chunks[:3]:
        produced += produce(broker.bootstrap, topic, chunk, partition=None)
        before = _committed(broker.bootstrap, topic, group)
        child = subprocess.Popen([exe, "collect", "-c", str(path)], stderr=subprocess.DEVNULL)
        # wait until it has made progress, then kill it at a random moment after that
        _wait_caught_up(broker.bootstrap, topic, group, before + 1)
        time.sleep(rng.uniform(0.0, 0.5))
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        print(f"kill {kills} at {time.monotonic() - t_start:.1f}s")
        mid_stream += _committed(broker.bootstrap, topic, group) < produced
    produce(broker.bootstrap, topic, chunks[3], partition=None)
    child = subprocess.Popen([exe, "collect", "-c", str(path)], stderr=subprocess.DEVNULL)
    try:
        _wait_caught_up(broker.bootstrap, topic, group, len(events))
    finally:
        child.send_signal(signal.SIGTERM)
        code = child.wait(60)
    assert code == 0  # SIGTERM: flushed, committed, exited cleanly
    print(f"caught up at {time.monotonic() - t_start:.1f}s")
    report = json.loads(
        subprocess.run(
            [sys.executable, "-c", CHECK, dsn, str(K)],
            capture_output=True,
            check=True,
            text=True,
            timeout=120,
        ).stdout
    )
    n = len(events)
    assert kills == 3 and mid_stream >= 1, (kills, mid_stream)
    assert report["events"] == [n, n]  # every event once in raw rows
    assert report["parts"] == n
    by_window: dict[float, list[str]] = defaultdict(list)
    for i, ev in enumerate(events):
        by_window[(i * 0.4) // WINDOW_S * WINDOW_S + 1772323200.0].append(ev["event_id"])
    assert sorted(float(s) for s in report["profiles"]) == sorted(by_window)
    for start, ids in by_window.items():
        assert report["profiles"][str(start)] == len(ids)
        assert report["samples"][str(start)] == sorted(ids, key=sample_hash)[:K]
    assert report["sample_rows"][0] == report["sample_rows"][1]  # no candidate twice
    for start, (on_time, late) in report["windows"].items():
        assert on_time + late == len(by_window[float(start)])
    assert len(report["windows"]) == len(by_window) - 1  # the last is still open


def _committed(bootstrap: str, topic: str, group: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=[bootstrap])
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
        return sum(o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset > 0)
    except KafkaError:
        return 0
    finally:
        admin.close()


def _wait_caught_up(bootstrap: str, topic: str, group: str, n: int, timeout: float = 90) -> None:
    admin = KafkaAdminClient(bootstrap_servers=[bootstrap])
    deadline = time.monotonic() + timeout
    done = 0
    try:
        while True:
            try:
                offsets = admin.list_group_offsets(group).get(group, {})
                done = sum(o.offset for tp, o in offsets.items() if tp.topic == topic)
            except KafkaError:  # the group is rebalancing
                pass
            if done >= n:
                return
            assert time.monotonic() < deadline, f"collector stuck at {done}/{n}"
            time.sleep(0.3)
    finally:
        admin.close()
