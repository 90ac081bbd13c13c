"""What serving the embedded store over HTTP costs a dashboard (``serve --store-port``).

Every panel, variable and annotation query of the six dashboards (expanded as Grafana's
ClickHouse plugin does) runs on the store filled by the dashboard tests' scenarios (2
models × 48 hourly windows), three ways, side by side in this process:

- **direct**: ``Store.query`` on the embedded engine (the baseline: what ``report`` does in
  the process that holds the store);
- **clickhouse-connect over HTTP**: what the other ``driftscope`` commands do while
  ``serve`` holds the store;
- **raw HTTP, FORMAT Native**: a Grafana-like request (POST, the query in the body).

It reports, per way, the median time of a whole dashboard refresh (every query once, in
turn) over ``--rounds``, the ratio to direct, and the longest single query: each request
holds the store's lock while it runs, so that is the longest the collector or the monitor
can wait behind one.

Run: ``.venv/bin/python benchmarks/store_gateway.py [--rounds 15]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import clickhouse_connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "dashboards"))  # the dashboard tests' fill

from dashfill import DRIFTING, T0, T1, fill, variables  # noqa: E402

from driftscope.dashboards import build as b  # noqa: E402
from driftscope.dashboards.macros import expand  # noqa: E402
from driftscope.store.clickhouse import Store  # noqa: E402


def queries() -> list[str]:
    out = []
    for key in sorted(b.DASHBOARDS):
        for spec in b.panel_specs(key):
            v = variables()
            if spec.repeat == "feature":
                v["feature"] = [DRIFTING]
            out.append(expand(spec.sql, T0, T1, 3600, v, all_values=b.ALL_VALUES))
        for fn in b.DASHBOARDS[key].annotations:
            out.append(expand(fn().sql, T0, T1, 3600, variables(), all_values=b.ALL_VALUES))
    out += [expand(sql, T0, T1, 3600, variables(), all_values=b.ALL_VALUES)
            for sql in b.variable_queries().values()]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    store = Store(f"chdb://{tempfile.mkdtemp()}/db", database="bench")
    store.migrate()
    fill(store)
    sqls = queries()
    http = store.serve_http(0)
    client = clickhouse_connect.get_client(dsn=http.url, database=store.database,
                                           password=http.token, compress=False)

    def raw(sql: str) -> bytes:
        req = urllib.request.Request(f"{http.url}/?database={store.database}",
                                     data=f"{sql}\nFORMAT Native".encode(), method="POST",
                                     headers={"X-ClickHouse-Key": http.token})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read()

    ways = {"direct (baseline)": store.query,
            "clickhouse-connect over HTTP": lambda sql: client.query(sql).result_rows,
            "raw HTTP, FORMAT Native": raw}
    refresh: dict[str, list[float]] = {w: [] for w in ways}
    longest: dict[str, float] = dict.fromkeys(ways, 0.0)
    for _ in range(args.rounds):
        for way, run in ways.items():  # interleaved: the machine's noise hits all alike
            started = time.perf_counter()
            for sql in sqls:
                t = time.perf_counter()
                run(sql)
                longest[way] = max(longest[way], time.perf_counter() - t)
            refresh[way].append(time.perf_counter() - started)
    http.stop()
    base = statistics.median(refresh["direct (baseline)"])
    print(f"`.venv/bin/python benchmarks/store_gateway.py --rounds {args.rounds}` "
          f"({len(sqls)} queries per refresh)\n")
    print("| way | dashboard refresh, median | ratio to direct | longest query |")
    print("|---|---|---|---|")
    for way in ways:
        med = statistics.median(refresh[way])
        print(f"| {way} | {med * 1000:.0f} ms | {med / base:.2f} | "
              f"{longest[way] * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
