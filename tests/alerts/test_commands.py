"""`driftscope monitor --once`, `backfill`, `alerts list|ack|silence|run` on chDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from driftscope.cli import app
from driftscope.detectors import registry
from driftscope.errors import ConfigError
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.types import Score

T0 = datetime(2026, 4, 1, tzinfo=UTC)
W = timedelta(minutes=5)


def setup(store: Store, tmp_path: Path) -> Path:
    def gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(2.0 if 8 <= i < 12 or i >= 16 else 0.0, 1, n)}

    write_windows(store, "m", T0, W, 20, 300, gen, seed=9)
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "m", "window": "5m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "reference": {
            "kind": "fixed", "start": T0.isoformat(), "end": (T0 + 5 * W).isoformat()}}],
        "alerts": {"console": True, "cooldown": "0s"},
    }))
    return path


def test_monitor_once_alerts_on_console_then_list_ack_silence(store: Store,
                                                               tmp_path: Path) -> None:
    cfg = setup(store, tmp_path)
    runner = CliRunner()
    until = (T0 + 14 * W).isoformat()
    out = runner.invoke(app, ["backfill", "--since", T0.isoformat(), "--until", until,
                              "--notify", "-c", str(cfg)])
    assert out.exit_code == 0, out.output
    assert "backfilled 14 window(s), 4 bad" in out.output
    assert "delivered: sent 2, failed 0" in out.output  # the incident opened and resolved
    out = runner.invoke(app, ["alerts", "run", "-c", str(cfg)])
    assert "sent 0, failed 0" in out.output
    listed = runner.invoke(app, ["alerts", "list", "-c", str(cfg)])
    assert "resolved" in listed.output
    (alert_id,) = store.query(f"SELECT {S.ALERTS.alert_id} FROM {S.ALERTS} LIMIT 1")[0]
    assert runner.invoke(app, ["alerts", "ack", alert_id, "-c", str(cfg)]).exit_code == 0
    out = runner.invoke(app, ["alerts", "silence", "--model", "m", "--for", "2h", "-c",
                              str(cfg)])
    assert out.exit_code == 0 and "silence" in out.output
    out = runner.invoke(app, ["monitor", "--once", "-c", str(cfg)])
    assert out.exit_code == 0, out.output
    assert "[ALERT]" not in out.output  # the relapse is recorded, but silenced
    firing = store.query(f"SELECT {S.ALERTS.state} FROM {S.ALERTS} FINAL "
                         f"ORDER BY {S.ALERTS.window_start}")
    assert [r[0] for r in firing] == ["resolved", "firing"]
    bad = runner.invoke(app, ["alerts", "ack", "nope", "-c", str(cfg)])
    assert isinstance(bad.exception, ConfigError)  # main() prints it as one line, exit 2
    assert "no alert 'nope'" in str(bad.exception) and "\n" not in str(bad.exception)


def _one_line_usage_error(args: list[str], option: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert option in result.output and "Traceback" not in result.output
    # the error itself on one line, whatever its length: never boxed, never wrapped
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and option in errors[0] and "╭" not in result.output, result.output


def test_bad_durations_and_ranges_are_usage_errors_not_tracebacks(tmp_path: Path) -> None:
    missing = str(tmp_path / "never-read.yaml")  # rejected before the config is read
    _one_line_usage_error(["alerts", "silence", "--model", "m", "--for", "soon", "-c",
                           missing], "--for")
    _one_line_usage_error(["monitor", "--once", "--settle", "a bit", "-c", missing],
                          "--settle")
    _one_line_usage_error(["alerts", "list", "--state", "open", "-c", missing], "--state")
    _one_line_usage_error(["backfill", "--since", "2026-01-02", "--until", "2026-01-01",
                           "-c", missing], "--since")
    _one_line_usage_error(["backfill", "--since", "2026-01-02", "-c", missing], "--until")
    _one_line_usage_error(["monitor", "--interval", "every minute", "-c", missing],
                          "--interval")  # a message longer than the terminal is wide


def test_a_missing_slack_secret_fails_before_any_window_is_processed(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = setup(store, tmp_path)
    doc = yaml.safe_load(path.read_text())
    doc["alerts"]["slack"] = True
    path.write_text(yaml.safe_dump(doc))
    monkeypatch.delenv("DRIFTSCOPE_SLACK_WEBHOOK_URL", raising=False)
    result = CliRunner().invoke(app, ["monitor", "--once", "-c", str(path)])
    assert isinstance(result.exception, ConfigError)
    assert "DRIFTSCOPE_SLACK_WEBHOOK_URL" in str(result.exception)
    assert store.count(S.MONITOR_WINDOWS) == 0


def test_no_deliver_leaves_the_outbox_to_the_alerts_service_and_health_follows_passes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftscope.errors import DriftscopeError

    monkeypatch.setenv("DRIFTSCOPE_HEARTBEAT_DIR", str(tmp_path / "beats"))
    cfg = setup(store, tmp_path)
    runner = CliRunner()
    before = runner.invoke(app, ["health", "monitor", "-c", str(cfg)])
    assert isinstance(before.exception, DriftscopeError)
    assert "no healthy pass yet" in str(before.exception)
    out = runner.invoke(app, ["monitor", "--once", "--no-deliver", "-c", str(cfg)])
    assert out.exit_code == 0, out.output
    assert "[ALERT]" not in out.output  # enqueued, not sent: one dispatcher per outbox
    pending = store.count(f"{S.ALERT_OUTBOX} FINAL", f"{S.ALERT_OUTBOX.status} = 'pending'")
    assert pending >= 1
    ok = runner.invoke(app, ["health", "monitor", "--max-age", "1m", "-c", str(cfg)])
    assert ok.exit_code == 0 and "last healthy pass" in ok.output
    # found live: a monitor of another store on the machine answered for this one
    other = tmp_path / "other.yaml"
    other.write_text(cfg.read_text().replace(store.database, "another_database"))
    elsewhere = runner.invoke(app, ["health", "monitor", "-c", str(other)])
    assert "no healthy pass yet over" in str(elsewhere.exception)
    assert "another_database" in str(elsewhere.exception)
    out = runner.invoke(app, ["alerts", "run", "-c", str(cfg)])
    assert "[ALERT]" in out.output and f"sent {pending}, failed 0" in out.output
    assert runner.invoke(app, ["health", "alerts", "--max-age", "1m", "-c", str(cfg)]
                         ).exit_code == 0
    (beat,) = (tmp_path / "beats").glob("monitor-*.beat")
    beat.write_text("0\n")  # a pass long ago
    stale = runner.invoke(app, ["health", "monitor", "--max-age", "1m", "-c", str(cfg)])
    assert "limit 1m" in str(stale.exception)


def test_no_deliver_needs_no_notifier_secret_and_enqueues_for_the_sender(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRIFTSCOPE_SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("DRIFTSCOPE_HEARTBEAT_DIR", str(tmp_path / "beats"))
    cfg = setup(store, tmp_path)
    data = yaml.safe_load(cfg.read_text())
    data["alerts"] = {**data["alerts"], "slack": True}
    cfg.write_text(yaml.safe_dump(data))
    runner = CliRunner()
    refused = runner.invoke(app, ["monitor", "--once", "-c", str(cfg)])
    assert "DRIFTSCOPE_SLACK_WEBHOOK_URL" in str(refused.exception)  # it would send: refused
    out = runner.invoke(app, ["monitor", "--once", "--no-deliver", "-c", str(cfg)])
    assert out.exit_code == 0, out.output
    box = S.ALERT_OUTBOX
    assert store.count(f"{box} FINAL", f"{box.channel} = 'slack' AND {box.status} = 'pending'") >= 1


def plain_config(store: Store, tmp_path: Path, **alerts: Any) -> Path:
    path = tmp_path / "driftscope.yaml"
    path.write_text(yaml.safe_dump({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "churn"}], "monitors": [],
        "alerts": {"console": False, **alerts}}))
    return path


def test_alerts_run_exits_1_when_a_message_failed_and_reports_what_it_held(
    store: Store, tmp_path: Path, slack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftscope.alerts.lease import Lease
    from driftscope.alerts.outbox import Outbox

    cfg = plain_config(store, tmp_path, slack=True, retries=2, backoff="0s", backoff_max="0s")
    monkeypatch.setenv("DRIFTSCOPE_SLACK_WEBHOOK_URL", slack.url)
    Outbox(store).enqueue("a1:firing:slack", "a1", "firing", "slack",
                          {"text": "Drift alert: churn", "blocks": []})
    other = Lease(store)  # another dispatcher is sending
    assert other.acquire()
    out = CliRunner().invoke(app, ["alerts", "run", "-c", str(cfg)])
    assert out.exit_code == 0 and "sent 0, failed 0, skipped 0, held 1" in out.output
    other.release()
    slack.answers = [(404, {}, "no_service")]
    out = CliRunner().invoke(app, ["alerts", "run", "-c", str(cfg)])
    assert out.exit_code == 1 and "sent 0, failed 1, skipped 0, held 0" in out.output
    out = CliRunner().invoke(app, ["alerts", "run", "-c", str(cfg)])  # Slack fixed
    assert out.exit_code == 0 and "sent 1, failed 0" in out.output


def save_alert(store: Store, alert_id: str, model: str) -> None:
    from driftscope.alerts.rules import FIRING, Alert
    from driftscope.alerts.state import AlertStore

    alert = Alert(alert_id, model, "monitor-with-a-long-name", T0, T0, FIRING, 3.0, 2, True)
    AlertStore(store).save(alert, f"{model} / monitor-with-a-long-name: 12 features drifted "
                           "for 2 windows since 2026-04-01 00:00 UTC", {}, T0)


def test_alerts_list_shows_whole_ids_and_ack_takes_their_start(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    cfg = str(plain_config(store, tmp_path))
    save_alert(store, "5f3a9c0e11d2b7a4e6c1", "customer-churn-prediction-model")
    save_alert(store, "5f3a9c77aa00bb11cc22", "fraud-scoring-model")
    save_alert(store, "90d2e41b7c3f5a6e8d0b", "pricing-model")
    runner = CliRunner()
    listed = runner.invoke(app, ["alerts", "list", "-c", cfg])
    assert listed.exit_code == 0, listed.output
    for aid in ("5f3a9c0e11d2b7a4e6c1", "5f3a9c77aa00bb11cc22", "90d2e41b7c3f5a6e8d0b"):
        assert aid in listed.output
    out = runner.invoke(app, ["alerts", "ack", "90d2e41b", "-c", cfg])
    assert out.exit_code == 0 and out.output.strip() == "90d2e41b7c3f5a6e8d0b: acknowledged"
    both = runner.invoke(app, ["alerts", "ack", "5f3a9c", "-c", cfg])
    assert isinstance(both.exception, ConfigError)
    assert str(both.exception) == ("alert id prefix '5f3a9c' matches several alerts "
                                   "(5f3a9c0e11d2b7a4e6c1, 5f3a9c77aa00bb11cc22); give more "
                                   "of the id")
    for given in ("5f3a9", "777777"):  # too short to be a prefix; no such alert
        bad = runner.invoke(app, ["alerts", "ack", given, "-c", cfg])
        assert isinstance(bad.exception, ConfigError)
        assert f"no alert '{given}'" in str(bad.exception) and "\n" not in str(bad.exception)


def test_a_silence_length_without_its_unit_is_refused(store: Store, tmp_path: Path) -> None:
    """``--for 2``: two hours or two seconds? Asked, not guessed."""
    cfg = setup(store, tmp_path)
    out = CliRunner().invoke(app, ["alerts", "silence", "--model", "m", "--for", "2", "-c",
                                   str(cfg)])
    assert out.exit_code == 2 and "give its unit" in out.output
    assert store.count(S.ALERT_SILENCES) == 0


def test_reading_alerts_where_there_is_no_store_says_so_and_makes_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run from another directory, without driftscope.yaml: the default store path is
    relative, so `alerts list` printed an empty table and left an empty store behind."""
    monkeypatch.chdir(tmp_path)
    for name in ("DRIFTSCOPE_STORE__DSN", "DRIFTSCOPE_STORE__DATABASE", "DRIFTSCOPE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for args in (["alerts", "list"], ["report", "--model", "m"]):
        out = CliRunner().invoke(app, args)  # (driftscope.cli.main prints it in one line)
        assert out.exit_code != 0 and "no store at chdb://" in str(out.exception), out.output
    assert not (tmp_path / ".driftscope").exists()


def test_an_empty_alerts_list_names_the_store_it_read(store: Store, tmp_path: Path) -> None:
    """Found by a new user: `alerts list` without the server's -c read another store and
    printed an empty table, which reads as "no alerts"."""
    cfg = str(plain_config(store, tmp_path))
    out = CliRunner().invoke(app, ["alerts", "list", "--state", "firing", "--model", "m",
                                   "-c", cfg])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == (f"no firing alerts of model m in {store.dsn} "
                                  f"(database {store.database})")


def test_silences_are_listed_and_ended_and_last_a_positive_time(
    store: Store, tmp_path: Path
) -> None:
    cfg = str(plain_config(store, tmp_path))
    runner = CliRunner()
    zero = runner.invoke(app, ["alerts", "silence", "--model", "churn", "--for", "0s",
                               "-c", cfg])
    assert zero.exit_code == 2 and "positive time" in zero.output  # (did nothing before)
    made = runner.invoke(app, ["alerts", "silence", "--model", "churn", "--for", "2h",
                               "--reason", "planned backfill", "-c", cfg])
    assert made.exit_code == 0, made.output
    sid = made.output.split()[1].rstrip(":")
    listed = runner.invoke(app, ["alerts", "silences", "-c", cfg])
    assert sid in listed.output and "churn/*" in listed.output
    assert "planned backfill" in listed.output
    from driftscope.alerts.state import AlertStore

    assert AlertStore(store).silenced("churn", "mon", datetime.now(UTC))
    ended = runner.invoke(app, ["alerts", "unsilence", sid, "-c", cfg])
    assert ended.exit_code == 0 and "ended" in ended.output
    assert not AlertStore(store).silenced("churn", "mon", datetime.now(UTC))
    assert "no silence in force" in runner.invoke(app, ["alerts", "silences", "-c", cfg]).output
    again = runner.invoke(app, ["alerts", "unsilence", sid, "-c", cfg])
    assert again.exit_code != 0 and isinstance(again.exception, ConfigError)


def test_ack_of_a_too_short_prefix_says_how_long_it_must_be(
    store: Store, tmp_path: Path
) -> None:
    cfg = str(plain_config(store, tmp_path))
    save_alert(store, "5f3a9c0e11d2b7a4e6c1", "churn")
    out = CliRunner().invoke(app, ["alerts", "ack", "5f3a", "-c", cfg])
    assert isinstance(out.exception, ConfigError)
    assert "at least its first 6 characters" in str(out.exception)


def test_ack_of_a_resolved_alert_says_nothing_was_acknowledged(
    store: Store, tmp_path: Path
) -> None:
    """It printed "…: resolved", exit 0, and wrote an acknowledgement on a closed alert."""
    from dataclasses import replace

    from driftscope.alerts.rules import RESOLVED, Alert
    from driftscope.alerts.state import AlertStore

    cfg = str(plain_config(store, tmp_path))
    alert = Alert("56017568a3394a1aa790", "churn", "mon", T0, T0, "firing", 3.0, 2, True)
    AlertStore(store).save(replace(alert, state=RESOLVED), "churn / mon: recovered", {}, T0)
    out = CliRunner().invoke(app, ["alerts", "ack", "560175", "-c", cfg])
    assert out.exit_code == 0
    assert out.output.strip() == "56017568a3394a1aa790: already resolved, nothing acknowledged"
    found = AlertStore(store).get("56017568a3394a1aa790")
    assert found is not None and "acknowledged_by" not in found[2]


def test_backfill_without_notify_enqueues_nothing_and_asks_no_retraining(
    store: Store, tmp_path: Path
) -> None:
    """Found live: `backfill` (default --no-notify) enqueued its alerts and a retrain
    request for a historical window; the next pass sent them and ran the retrain command."""
    cfg = setup(store, tmp_path)
    data = yaml.safe_load(cfg.read_text())
    marker = tmp_path / "retrain.jsonl"
    data["alerts"]["retrain"] = {"kafka": False, "command": ["/bin/sh", "-c", f"cat >> {marker}"],
                                 "policies": [{"name": "s", "kind": "drift_sustained",
                                               "windows": 2}]}
    cfg.write_text(yaml.safe_dump(data))
    runner = CliRunner()
    out = runner.invoke(app, ["backfill", "--since", T0.isoformat(), "--until",
                              (T0 + 20 * W).isoformat(), "-c", str(cfg)])
    assert out.exit_code == 0 and " bad" in out.output and ", 0 bad" not in out.output
    assert store.count(S.ALERTS) > 0  # the alerts' state is rebuilt
    assert store.count(f"{S.ALERT_OUTBOX} FINAL", f"{S.ALERT_OUTBOX.kind} != 'lease'") == 0
    assert store.count(S.RETRAIN_REQUESTS) == 0
    after = runner.invoke(app, ["monitor", "--once", "-c", str(cfg)])
    assert "[ALERT]" not in after.output and not marker.exists()
    # with --notify, windows the alerts never saw are told as live: the alert the first
    # backfill recorded unannounced pages on the next drifted window
    write_windows(store, "m", T0 + 20 * W, W, 4, 300,
                  lambda i, rng, n: {"x": rng.normal(2.0, 1, n)}, seed=10)
    out = runner.invoke(app, ["backfill", "--since", T0.isoformat(), "--until",
                              (T0 + 24 * W).isoformat(), "--notify", "-c", str(cfg)])
    assert out.exit_code == 0 and "[ALERT]" in out.output, out.output


def test_backfill_over_windows_the_alerts_saw_leaves_their_alerts_as_they_are(
    store: Store, tmp_path: Path
) -> None:
    """Found live: a backfill --notify whose range began before a firing, acknowledged
    alert replayed the good windows before it against it: Slack was told "Resolved" while
    it still fired, the acknowledgement was gone, and the real recovery later was dropped
    as that resolution's duplicate."""
    cfg = str(setup(store, tmp_path))
    runner = CliRunner()
    live = runner.invoke(app, ["monitor", "--once", "-c", cfg])
    assert live.output.count("[ALERT]") == 2 and "[RESOLVED]" in live.output, live.output
    firing = store.query(f"SELECT {S.ALERTS.alert_id} FROM {S.ALERTS} FINAL "
                         f"WHERE {S.ALERTS.state} = 'firing'")
    (alert_id,) = firing[0]
    assert runner.invoke(app, ["alerts", "ack", alert_id, "--by", "alice", "-c", cfg]
                         ).exit_code == 0
    out = runner.invoke(app, ["backfill", "--since", T0.isoformat(), "--until",
                              (T0 + 20 * W).isoformat(), "--notify", "-c", cfg])
    assert out.exit_code == 0, out.output
    assert "backfilled 20 window(s), 8 bad" in out.output
    assert "[RESOLVED]" not in out.output and "[ALERT]" not in out.output, out.output
    listed = runner.invoke(app, ["alerts", "list", "-c", cfg]).output
    assert alert_id[:8] in listed and "acknowledged" in listed, listed
    # the real recovery is told
    write_windows(store, "m", T0 + 20 * W, W, 2, 300,
                  lambda i, rng, n: {"x": rng.normal(0.0, 1, n)}, seed=11)
    after = runner.invoke(app, ["monitor", "--once", "-c", cfg])
    assert after.output.count("[RESOLVED]") == 1, after.output


def test_backfill_notify_exits_1_when_a_message_failed(store: Store, tmp_path: Path) -> None:
    cfg = setup(store, tmp_path)
    data = yaml.safe_load(cfg.read_text())
    data["alerts"].update(console=False, slack=True, backoff="10ms", backoff_max="20ms")
    cfg.write_text(yaml.safe_dump(data))  # Slack: a port where nothing answers
    out = CliRunner(env={"DRIFTSCOPE_SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook"}).invoke(
        app, ["backfill", "--since", T0.isoformat(), "--until", (T0 + 14 * W).isoformat(),
              "--notify", "-c", str(cfg)])
    assert out.exit_code == 1, out.output
    # (the resolution waits behind its alert's firing message: held)
    assert "delivered: sent 0, failed 1, skipped 0, held 1" in out.output


def test_an_alert_of_a_removed_monitor_is_named_and_can_be_resolved_by_hand(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A monitor taken out of the configuration leaves its open alert firing for ever
    (nothing judges its windows): the monitor says so once, and `alerts resolve` closes it."""
    from driftscope.monitor import scheduler

    cfg = str(plain_config(store, tmp_path))  # no monitor configured
    save_alert(store, "0a1b2c3d4e5f60718293", "churn")  # of monitor-with-a-long-name
    scheduler._ORPHANS.discard("0a1b2c3d4e5f60718293")
    runner = CliRunner()
    with caplog.at_level("WARNING", logger="driftscope.monitor"):
        assert runner.invoke(app, ["monitor", "--once", "-c", cfg]).exit_code == 0
        assert runner.invoke(app, ["monitor", "--once", "-c", cfg]).exit_code == 0
    said = [r.getMessage() for r in caplog.records if "0a1b2c3d4e5f60718293" in r.getMessage()]
    assert len(said) == 1  # once per process
    assert "no monitor 'monitor-with-a-long-name' of model 'churn' is configured:" in said[0]
    assert "driftscope alerts resolve 0a1b2c3d4e5f60718293" in said[0]
    out = runner.invoke(app, ["alerts", "resolve", "0a1b2c3d", "--by", "alice", "-c", cfg])
    assert out.exit_code == 0 and out.output.strip() == "0a1b2c3d4e5f60718293: resolved"
    from driftscope.alerts.state import AlertStore

    row = AlertStore(store).get("0a1b2c3d4e5f60718293")
    assert row is not None and row[0].state == "resolved" and row[2]["resolved_by"] == "alice"
    again = runner.invoke(app, ["alerts", "resolve", "0a1b2c3d4e5f60718293", "-c", cfg])
    assert again.output.strip() == "0a1b2c3d4e5f60718293: already resolved"
    # an alert of a configured monitor resolves by itself (a hand resolution would be
    # undone by its next bad window)
    save_alert(store, "99aa88bb77cc66dd55ee", "churn")
    data = yaml.safe_load(Path(cfg).read_text())
    data["monitors"] = [{"name": "monitor-with-a-long-name", "model": "churn",
                         "features": ["x"]}]
    Path(cfg).write_text(yaml.safe_dump(data))
    kept = runner.invoke(app, ["alerts", "resolve", "99aa88bb77cc66dd55ee", "-c", cfg])
    assert isinstance(kept.exception, ConfigError)
    assert "which is configured" in str(kept.exception)


class _FailsOnDrift:
    """A plug-in detector that fails on windows whose mean is above 1 (a bug in it)."""

    name = "fails_on_drift"

    def __init__(self, policy: Any = None) -> None:
        pass

    def fit(self, ref: np.ndarray, rng: Any = None) -> _FailsOnDrift:
        return self

    def score(self, cur: np.ndarray) -> Score:
        if np.nanmean(cur) > 1:
            raise RuntimeError("boom")
        return Score(0.0, 1.0, "constant")


def test_a_pass_that_stops_at_a_failed_window_says_what_it_left_and_exits_1(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, `backfill` and `monitor --once` exited 0 when a window failed: the WARNING
    scrolled by, and a script took the range as done while the failed window and every
    one after it were left unprocessed."""
    monkeypatch.setitem(registry.DETECTORS._items, "fails_on_drift", _FailsOnDrift)
    cfg = setup(store, tmp_path)
    raw = yaml.safe_load(cfg.read_text())
    raw["monitors"][0]["detectors"] = [{"name": "fails_on_drift"}]
    cfg.write_text(yaml.safe_dump(raw))
    runner = CliRunner()
    until = (T0 + 14 * W).isoformat()
    out = runner.invoke(app, ["backfill", "--since", T0.isoformat(), "--until", until,
                              "-c", str(cfg)])
    assert out.exit_code == 1, out.output
    assert "backfilled 8 window(s)" in out.output  # windows 8 to 11 drift: 8 fails
    assert ("monitor mon: 6 window(s) from 2026-04-01 00:40 not backfilled (a window "
            "failed: see the warning above); run it again") in out.output
    out = runner.invoke(app, ["monitor", "--once", "-c", str(cfg)])
    assert out.exit_code == 1, out.output
    assert "monitor mon: 12 window(s) from 2026-04-01 00:40 not processed" in out.output

    monkeypatch.setitem(registry.DETECTORS._items, "fails_on_drift", type(
        "Fixed", (_FailsOnDrift,), {"score": lambda self, cur: Score(0.0, 1.0, "constant")}))
    out = runner.invoke(app, ["monitor", "--once", "-c", str(cfg)])
    assert out.exit_code == 0, out.output


def test_operator_mistakes_get_one_line_each(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found operating the service: a silence of a mistyped monitor said it was set (the
    real alert kept paging); `list --limit 0` said there were no alerts; `resolve` of a
    resolved alert said it resolves by itself; a Slack URL without its scheme started, and
    every alert then failed to send."""
    from dataclasses import replace

    from driftscope.alerts.rules import RESOLVED, Alert
    from driftscope.alerts.state import AlertStore

    path = setup(store, tmp_path)
    cfg = str(path)
    runner = CliRunner()
    out = runner.invoke(app, ["alerts", "silence", "--model", "m", "--monitor", "mno",
                              "--for", "1h", "-c", cfg])
    assert isinstance(out.exception, ConfigError)
    assert str(out.exception) == ("no configured monitor is m/mno (model/monitor; * for all): "
                                  "the silence would hold nothing; monitors: m/mon")
    assert store.count(S.ALERT_SILENCES) == 0
    assert runner.invoke(app, ["alerts", "silence", "--model", "*", "--monitor", "mon",
                               "--for", "1h", "-c", cfg]).exit_code == 0
    out = runner.invoke(app, ["alerts", "list", "--limit", "0", "-c", cfg])
    assert out.exit_code == 2 and "--limit" in out.output
    alert = Alert("56017568a3394a1aa790", "m", "mon", T0, T0, "firing", 3.0, 2, True)
    AlertStore(store).save(replace(alert, state=RESOLVED), "m / mon: recovered", {}, T0)
    out = runner.invoke(app, ["alerts", "resolve", "560175", "-c", cfg])
    assert (out.exit_code, out.output.strip()) == (0, "56017568a3394a1aa790: already resolved")
    doc = yaml.safe_load(path.read_text())
    doc["alerts"]["slack"] = True
    path.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("DRIFTSCOPE_SLACK_WEBHOOK_URL", "hooks.slack.com/services/T0/B0/secret")
    result = runner.invoke(app, ["monitor", "--once", "-c", cfg])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception) == ("DRIFTSCOPE_SLACK_WEBHOOK_URL is not an http(s) URL with "
                                     "a host (it must start https://)")
    assert store.count(S.MONITOR_WINDOWS) == 0
