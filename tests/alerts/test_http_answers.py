"""What Slack's and webhooks' answers mean for a message, through the real dispatcher,
notifiers and outbox on chDB: a redirect is not a delivery, a 429 is waited out, a 4xx
is not retried in the run, and every POST is one the dispatcher counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pydantic import SecretStr

from driftscope.alerts.notifiers import SlackNotifier, WebhookNotifier
from driftscope.alerts.outbox import Dispatcher, Outbox
from driftscope.errors import NotifierError
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

O = S.ALERT_OUTBOX  # noqa: E741


def notifier(channel: str, url: str) -> Any:
    cls = SlackNotifier if channel == "slack" else WebhookNotifier
    return cls(SecretStr(url), 2)


def row(store: Store, delivery_id: str) -> tuple[str, int, str]:
    rows = store.query(f"SELECT {O.status}, {O.attempts}, {O.last_error} FROM {O} FINAL "
                       f"WHERE {O.delivery_id} = {{d:String}}", {"d": delivery_id})
    return rows[0]


@pytest.mark.parametrize("code", [301, 302])
@pytest.mark.parametrize("channel,kind", [("slack", "firing"), ("webhook", "firing"),
                                          ("webhook", "retrain")])
def test_a_redirect_is_a_failed_attempt_not_a_delivery(
    store: Store, webhook: Any, code: int, channel: str, kind: str
) -> None:
    moved = webhook.url.replace("/T000/B000/s3cr3tTOKEN", "/T1/B1/n3wT0KEN")  # answers 200
    webhook.answers = [(code, {"Location": moved}, "")] * 2
    box = Outbox(store)
    box.enqueue(f"a:{kind}:{channel}", "a", kind, channel, {"text": "alert", "blocks": []})
    counts = Dispatcher(box, {channel: notifier(channel, webhook.url)}, retries=1,
                        sleep=lambda s: None).run()
    assert counts["failed"] == 1 and counts["sent"] == 0
    assert webhook.requests == [("POST", "/services/T000/B000/s3cr3tTOKEN")] * 2  # no GET
    status, attempts, error = row(store, f"a:{kind}:{channel}")
    assert (status, attempts) == ("failed", 2)
    host = webhook.url.split("/services/")[0]
    assert error == (f"{channel} answered HTTP {code}, a redirect to {host}/<redacted>: "
                     "not followed (fix the URL)")
    webhook.answers = []  # the URL fixed (here: it stopped redirecting): the next run sends
    assert Dispatcher(box, {channel: notifier(channel, webhook.url)},
                      sleep=lambda s: None).run(include_failed=True)["sent"] == 1


def test_a_rate_limit_longer_than_the_runs_retries_leaves_the_channel_until_then(
    store: Store, slack: Any
) -> None:
    now = [datetime(2026, 4, 1, 10, tzinfo=UTC)]
    box = Outbox(store, clock=lambda: now[0])
    for name in ("a", "b"):
        box.enqueue(f"{name}:firing:slack", name, "firing", "slack",
                    {"text": f"alert {name}", "blocks": []})
    slack.answers = [(429, {"Retry-After": "20"}, "rate_limited")]
    waits: list[float] = []
    d = Dispatcher(box, {"slack": notifier("slack", slack.url)}, retries=5, backoff=0.5,
                   backoff_max=30, sleep=waits.append)  # 0.5+1+2+4+8 s of retries left
    assert d.run() == {"sent": 0, "failed": 0, "skipped": 0, "held": 2}
    assert len(slack.posts) == 1 and waits == []  # b was not posted inside the 20 s either
    status, attempts, error = row(store, "a:firing:slack")
    assert (status, attempts) == ("sending", 1)
    assert error == "slack answered HTTP 429: rate_limited (retry after 20s)"
    now[0] += timedelta(seconds=19)
    taken: list[bool] = []
    acquire = d.lease.acquire
    d.lease.acquire = lambda: taken.append(True) or acquire()  # type: ignore[method-assign]
    assert d.run(include_failed=True)["held"] == 2 and len(slack.posts) == 1
    assert taken == [], "no lease taken only to wait"
    now[0] += timedelta(seconds=2)
    assert d.run(include_failed=True)["sent"] == 2
    assert [m["text"] for m in slack.accepted] == ["alert a", "alert b"]
    assert row(store, "a:firing:slack")[:2] == ("sent", 2)


@pytest.mark.parametrize("header", ["seconds", "date"])
def test_a_short_rate_limit_is_waited_out_in_the_run(
    store: Store, slack: Any, header: str
) -> None:
    later = datetime.now(UTC) + timedelta(seconds=12)
    value = "9" if header == "seconds" else format_datetime(later, usegmt=True)
    slack.answers = [(429, {"Retry-After": value}, "rate_limited")]
    box = Outbox(store)
    box.enqueue("a:firing:slack", "a", "firing", "slack", {"text": "alert", "blocks": []})
    waits: list[float] = []
    d = Dispatcher(box, {"slack": notifier("slack", slack.url)}, retries=5, backoff=0.5,
                   backoff_max=30, sleep=waits.append)
    assert d.run()["sent"] == 1 and len(slack.posts) == 2
    assert len(waits) == 1 and 8 <= waits[0] <= 12  # Slack's wait, not the 0.5 s backoff


@pytest.mark.parametrize("code,body", [(400, "invalid_blocks"), (403, "action_prohibited"),
                                       (404, "no_service"), (410, "channel_is_archived")])
def test_a_refusal_is_not_retried_in_the_run_but_is_in_the_next(
    store: Store, slack: Any, code: int, body: str
) -> None:
    slack.answers = [(code, {}, body)]
    box = Outbox(store)
    box.enqueue("a:firing:slack", "a", "firing", "slack", {"text": "alert", "blocks": []})
    d = Dispatcher(box, {"slack": notifier("slack", slack.url)}, retries=3,
                   sleep=lambda s: None)
    assert d.run()["failed"] == 1 and len(slack.posts) == 1
    assert row(store, "a:firing:slack") == ("failed", 1, f"slack answered HTTP {code}: {body}")
    assert d.run(include_failed=True)["sent"] == 1 and len(slack.posts) == 2  # fixed: sent


def test_every_post_to_slack_is_an_attempt_the_dispatcher_counted(
    store: Store, slack: Any
) -> None:
    slack.mode = "hangup"  # slack_sdk's default handlers would post again, unseen
    box = Outbox(store)
    box.enqueue("a:firing:slack", "a", "firing", "slack", {"text": "alert", "blocks": []})
    d = Dispatcher(box, {"slack": notifier("slack", slack.url)}, retries=1,
                   sleep=lambda s: None)
    assert d.run()["failed"] == 1
    assert len(slack.posts) == 2 and row(store, "a:firing:slack")[:2] == ("failed", 2)
    assert {h["Idempotency-Key"] for _, h, _ in slack.posts} == {"a:firing:slack"}


def test_a_rate_limit_on_the_last_attempt_still_holds_the_channel(
    store: Store, slack: Any
) -> None:
    """A 503, then a 429 asking for 10 minutes on the last retry: the message waits (not
    failed) and the next message is not posted inside the 10 minutes."""
    now = [datetime(2026, 4, 1, 10, tzinfo=UTC)]
    box = Outbox(store, clock=lambda: now[0])
    for name in ("a", "b"):
        box.enqueue(f"{name}:firing:slack", name, "firing", "slack",
                    {"text": f"alert {name}", "blocks": []})
    slack.answers = [(503, {}, "unavailable"), (429, {"Retry-After": "600"}, "rate_limited")]
    d = Dispatcher(box, {"slack": notifier("slack", slack.url)}, retries=1, backoff=0.5,
                   backoff_max=30, sleep=lambda s: None)
    assert d.run() == {"sent": 0, "failed": 0, "skipped": 0, "held": 2}
    assert len(slack.posts) == 2 and row(store, "a:firing:slack")[:2] == ("sending", 2)
    now[0] += timedelta(seconds=601)
    assert d.run(include_failed=True)["sent"] == 2
    assert [m["text"] for m in slack.accepted] == ["alert a", "alert b"]


def test_a_conflict_on_the_idempotency_key_is_retried(store: Store, slack: Any) -> None:
    """409: an earlier attempt under the same key is still being processed (it timed out
    here): not a refusal, tried again in the run."""
    slack.answers = [(409, {}, "request in progress")]
    box = Outbox(store)
    box.enqueue("a:firing:slack", "a", "firing", "slack", {"text": "alert", "blocks": []})
    d = Dispatcher(box, {"slack": notifier("slack", slack.url)}, retries=2,
                   sleep=lambda s: None)
    assert d.run()["sent"] == 1 and len(slack.posts) == 2


def test_a_receiver_that_keeps_answering_429_fails_the_message_without_a_long_sleep(
    store: Store, slack: Any
) -> None:
    """Every post answered 429 with a two-minute Retry-After: each run posts once and
    leaves the message; the 20th answer fails it (reported) instead of sleeping the
    two minutes inside the run past its lease, and the channel still waits them after."""
    now = [datetime(2026, 4, 1, 10, tzinfo=UTC)]
    box = Outbox(store, clock=lambda: now[0])
    box.enqueue("a:firing:slack", "a", "firing", "slack", {"text": "alert a", "blocks": []})
    waits: list[float] = []
    d = Dispatcher(box, {"slack": notifier("slack", slack.url)}, retries=5, backoff=0.5,
                   backoff_max=30, sleep=waits.append)
    outcomes = []
    for _ in range(20):
        slack.answers = [(429, {"Retry-After": "120"}, "rate_limited")]
        outcomes.append(d.run(include_failed=True))
        now[0] += timedelta(seconds=121)
    assert waits == [] and len(slack.posts) == 20
    assert [o["held"] for o in outcomes[:19]] == [1] * 19
    assert outcomes[19] == {"sent": 0, "failed": 1, "skipped": 0, "held": 0}
    assert row(store, "a:firing:slack")[:2] == ("failed", 20)
    # the 20th answer's two minutes still hold the channel, then the failed message goes
    slack.answers = [(429, {"Retry-After": "120"}, "rate_limited")]
    assert d.run(include_failed=True)["failed"] == 1 and len(slack.posts) == 21
    box.enqueue("b:firing:slack", "b", "firing", "slack", {"text": "alert b", "blocks": []})
    now[0] += timedelta(seconds=60)
    assert d.run()["held"] == 1 and len(slack.posts) == 21  # (a run without failed ones)
    assert d.run(include_failed=True)["held"] == 2 and len(slack.posts) == 21
    now[0] += timedelta(seconds=61)
    assert d.run(include_failed=True)["sent"] == 2 and len(slack.posts) == 23
    assert [m["text"] for m in slack.accepted] == ["alert a", "alert b"] and waits == []


@pytest.mark.parametrize("channel", ["slack", "webhook"])
def test_a_timeout_under_a_second_or_between_whole_seconds_is_kept(
    slack: Any, channel: str
) -> None:
    """``timeout: 1900ms`` waits an answer 1.2 s late on both channels (Slack's client
    was given whole seconds: 1 s, and failed it), and ``400ms`` gives up on it."""
    slack.delay = 1.2
    notifier_ = notifier(channel, slack.url)
    notifier_.timeout = 1.9
    notifier_.send({"text": "alert", "blocks": []}, "k1")
    assert len(slack.accepted) == 1
    notifier_.timeout = 0.4
    with pytest.raises(NotifierError):
        notifier_.send({"text": "alert", "blocks": []}, "k2")
