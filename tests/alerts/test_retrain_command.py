"""The retraining command sink, configured as users configure it: its time limit, what a
timeout leaves running, and what a failure says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from driftscope.alerts.channels import build_channels
from driftscope.alerts.outbox import Dispatcher, Outbox
from driftscope.config import Config, Secrets
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

O = S.ALERT_OUTBOX  # noqa: E741


def sink(store: Store, tmp_path: Path, script: str, **retrain: object) -> Dispatcher:
    path = tmp_path / "retrain.sh"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    cfg = Config.model_validate({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "churn"}], "monitors": [],
        "alerts": {"console": False, "retrain": {"kafka": False, "command": [str(path)],
                                                 **retrain}},
    })
    box = Outbox(store)
    box.enqueue("r1:retrain:command", "r1", "retrain", "command",
                {"type": "retrain_request", "request_id": "r1"})
    channels = build_channels(cfg, Secrets(webhook_url=SecretStr("http://127.0.0.1:9/x")))
    return Dispatcher(box, channels, retries=0, sleep=lambda s: None)


def last_error(store: Store) -> str:
    return store.query(f"SELECT {O.last_error} FROM {O} FINAL "
                       f"WHERE {O.delivery_id} = 'r1:retrain:command'")[0][0]


def dead(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_command_past_its_configured_limit_is_killed_with_what_it_started(
    store: Store, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    d = sink(store, tmp_path, f"sleep 300 &\necho $! > {pids}\nsleep 300\n",
             command_timeout="1s")
    assert d.run()["failed"] == 1
    assert last_error(store) == ("retrain command timed out after 1s and was killed with "
                                 "its process group")
    (training,) = (int(x) for x in pids.read_text().split())
    assert dead(training), "the training the command started in the background still runs"


def test_a_failed_command_says_why_without_secrets(store: Store, tmp_path: Path) -> None:
    d = sink(store, tmp_path, "echo 'loading model' >&2\n"
             "echo 'error: MLflow at http://mlflow:5000/api?token=abc refused: "
             "password=hunter2 expired' >&2\nexit 3\n")
    assert d.run()["failed"] == 1
    assert last_error(store) == ("retrain command exited 3: error: MLflow at "
                                 "http://mlflow:5000/<redacted> refused: password=<redacted> "
                                 "expired")
    assert "hunter2" not in last_error(store) and os.linesep not in last_error(store)


@pytest.mark.parametrize("said", [
    'curl: (22) 401 for -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"',
    'response {"error": "denied", "api_key": "zzz-secret-key"}',
    "rejected token Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
])
def test_a_credential_in_other_forms_is_not_kept(store: Store, tmp_path: Path, said: str) -> None:
    """Found in review: a header's bearer token and a JSON api key came through."""
    d = sink(store, tmp_path, f"echo '{said}' >&2\nexit 3\n")
    assert d.run()["failed"] == 1
    error = last_error(store)
    assert "<redacted>" in error
    assert not any(s in error for s in ("eyJhbGciOiJIUzI1NiJ9", "zzz-secret-key")), error


def test_the_command_limit_defaults_to_a_minute() -> None:
    from driftscope.alerts.config import RetrainConfig

    assert RetrainConfig().command_timeout.total_seconds() == 60


def test_words_that_only_look_like_a_scheme_are_kept() -> None:
    """The review of the change: "basic authentication failed" became "basic=<redacted>
    failed"; a bare token needs a digit or a sign to be taken for one."""
    from driftscope.alerts.notifiers.kafka import _redact

    assert _redact("basic authentication failed") == "basic authentication failed"
    assert _redact("bearer tokens expired") == "bearer tokens expired"
    assert _redact("401 with Bearer eyJ0eXAiOiJKV1Q.x") == "401 with Bearer=<redacted>"
