"""A backfill that re-judges windows the alerts already saw, on chDB and a Slack recorder.

Found in review: labels that came after their windows were judged (docs/monitor.md,
"Known limits": run `driftscope backfill` once they are in) made the backfill rewrite the
windows' performance rows and mark them bad, but the alert engine took every window it had
seen as ``seen``: no alert opened and `backfill --notify` sent nothing ("backfilled 30
window(s), 10 bad", "sent 0"). A window judged good and re-judged bad is news: its
incident opens, told once; re-judged with the same verdict it changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from typer.testing import CliRunner

from driftscope.alerts.state import AlertStore
from driftscope.cli import app
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
N = 100
F, M = S.FEEDBACK, S.MONITOR_WINDOWS


def truth(i: int) -> np.ndarray:
    return np.random.default_rng(500 + i).integers(0, 2, N)


def predictions(store: Store, first: int, count: int, bad: set[int], seed: int) -> None:
    """Windows ``first`` … of predictions without labels (accuracy 0.6 in ``bad``, else
    0.95); their event ids are ``{seed}-{k}-{j}``, k counted from ``first``."""
    def gen(k: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = truth(first + k)
        wrong = rng.uniform(size=n) < (0.4 if first + k in bad else 0.05)
        return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y)}
    write_windows(store, "m", T0 + first * W, W, count, N, gen, seed=seed)


def labels(store: Store, first: int, count: int, seed: int) -> None:
    """The labels of those windows, two hours after them (long after their pass)."""
    store.insert(F, [("m", f"{seed}-{k}-{j}", str(v), T0 + (first + k + 12) * W,
                      T0 + (first + k + 12) * W, 0, j)
                     for k in range(count) for j, v in enumerate(truth(first + k))],
                 F.columns)


def setup(store: Store, tmp_path: Path) -> str:
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "reference": {"kind": "previous", "windows": 3},
                      "performance": {"task": "classification", "prediction": "pred",
                                      "metrics": ["accuracy"]},
                      "rules": [{"metric": "accuracy", "op": "<", "value": 0.8}]}],
        "alerts": {"console": False, "slack": True, "min_windows": 2, "cooldown": "0s",
                   "backoff": "0s", "retries": 0},
    }))
    return str(path)


def cli(slack: Any, *args: str) -> str:
    out = CliRunner(env={"DRIFTSCOPE_SLACK_WEBHOOK_URL": slack.url}).invoke(app, list(args))
    assert out.exit_code == 0, out.output
    return out.output


def backfill(slack: Any, cfg: str, until: int, *more: str) -> str:
    return cli(slack, "backfill", "--since", T0.isoformat(), "--until",
               (T0 + until * W).isoformat(), *more, "-c", cfg)


def alerts(store: Store) -> list[tuple[int, int, str, int, bool]]:
    """(first window, last window, state, bad windows, notified) of each alert, oldest
    first."""
    return sorted(((a.opened_window - T0) // W, (a.last_window - T0) // W, a.state, a.windows,
                   a.notified) for a, _, _ in AlertStore(store).recent())


def texts(slack: Any) -> list[str]:
    return [m["text"] for m in slack.accepted]


def test_late_labels_backfilled_open_the_alert_once(store: Store, tmp_path: Path,
                                                    slack: Any) -> None:
    """Windows 0–11 judged live before their labels (all good); the labels come, the last
    six windows' accuracy was 0.6: the backfill opens one alert from window 6 over its six
    bad windows, told once; run again, it sends nothing; the live windows after it go on
    with that alert and its recovery is told."""
    cfg = setup(store, tmp_path)
    predictions(store, 0, 12, set(range(6, 12)), seed=1)
    live = cli(slack, "monitor", "--once", "-c", cfg)
    assert "delivered: sent 0" in live or "sent" not in live, live
    assert alerts(store) == [] and slack.accepted == []
    labels(store, 0, 12, seed=1)

    out = backfill(slack, cfg, 12, "--notify")
    assert "backfilled 12 window(s), 6 bad" in out
    assert "delivered: sent 1, failed 0" in out, out
    assert alerts(store) == [(6, 11, "firing", 6, True)]
    assert len(slack.accepted) == 1 and "Resolved" not in texts(slack)[0]

    again = backfill(slack, cfg, 12, "--notify")  # the same verdicts: nothing new
    assert "backfilled 12 window(s), 6 bad" in again and "sent 1" not in again, again
    assert alerts(store) == [(6, 11, "firing", 6, True)] and len(slack.accepted) == 1

    # live again: two more bad windows (labels inline now) continue it, two good resolve it
    def gen(k: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.integers(0, 2, n)
        wrong = rng.uniform(size=n) < (0.4 if k < 2 else 0.05)
        return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y),
                "label": [str(v) for v in y]}
    write_windows(store, "m", T0 + 12 * W, W, 4, N, gen, seed=2)
    cli(slack, "monitor", "--once", "-c", cfg)
    assert alerts(store) == [(6, 15, "resolved", 8, True)]
    assert len(slack.accepted) == 2 and "Resolved" in texts(slack)[1], texts(slack)


def test_a_backfill_without_notify_records_it_for_the_next_pass_to_tell(
        store: Store, tmp_path: Path, slack: Any) -> None:
    """Without --notify the re-judged incident is recorded, not announced (as any alert a
    backfill without it opens): the next bad window of a live pass announces it."""
    cfg = setup(store, tmp_path)
    predictions(store, 0, 10, set(range(6, 10)), seed=1)
    cli(slack, "monitor", "--once", "-c", cfg)
    labels(store, 0, 10, seed=1)
    out = backfill(slack, cfg, 10)
    assert "backfilled 10 window(s), 4 bad" in out
    assert alerts(store) == [(6, 9, "firing", 4, False)] and slack.accepted == []
    assert backfill(slack, cfg, 10, "--notify").count("sent 1") == 0  # already applied
    assert slack.accepted == []

    def gen(k: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.integers(0, 2, n)
        wrong = rng.uniform(size=n) < 0.4
        return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y),
                "label": [str(v) for v in y]}
    write_windows(store, "m", T0 + 10 * W, W, 1, N, gen, seed=2)
    cli(slack, "monitor", "--once", "-c", cfg)
    assert alerts(store) == [(6, 10, "firing", 5, True)] and len(slack.accepted) == 1


def test_a_window_re_judged_bad_inside_an_alert_it_saw_changes_nothing(
        store: Store, tmp_path: Path, slack: Any) -> None:
    """Windows 4–7 bad with their labels in (one alert, told); window 3's labels came
    late, and it is bad too: the backfill leaves the told alert as it was (one incident,
    one message), and the windows before it, re-judged good, start nothing."""
    cfg = setup(store, tmp_path)
    predictions(store, 0, 4, {3}, seed=1)

    def gen(k: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.integers(0, 2, n)
        wrong = rng.uniform(size=n) < (0.4 if k < 4 else 0.05)
        return {"x": rng.normal(size=n), "output:pred": np.where(wrong, 1 - y, y),
                "label": [str(v) for v in y]}
    write_windows(store, "m", T0 + 4 * W, W, 6, N, gen, seed=2)
    cli(slack, "monitor", "--once", "-c", cfg)
    assert alerts(store) == [(4, 9, "resolved", 4, True)] and len(slack.accepted) == 2
    labels(store, 0, 4, seed=1)
    out = backfill(slack, cfg, 10, "--notify")
    assert "backfilled 10 window(s), 5 bad" in out, out
    assert alerts(store) == [(4, 9, "resolved", 4, True)] and len(slack.accepted) == 2
