"""Notifiers built from configuration and the environment's secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from driftscope.alerts.notifiers import (
    CommandNotifier,
    ConsoleNotifier,
    KafkaNotifier,
    SlackNotifier,
    WebhookNotifier,
)
from driftscope.alerts.outbox import Channel, Dispatcher, Outbox
from driftscope.config import Config, Secrets, kafka_client_options
from driftscope.errors import ConfigError
from driftscope.store.clickhouse import Store


def _check_url(secret: SecretStr, name: str) -> None:
    """A one-line error for a URL no request can go to (``hooks.slack.com/…`` without
    its scheme started, and every alert then failed to send, retried for ever). The URL
    holds the secret: the message never shows it."""
    url = urlsplit(secret.get_secret_value().strip())
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"{name} is not an http(s) URL with a host (it must start "
                          "https://)")


def build_channels(
    config: Config, secrets: Secrets, write: Callable[[str], Any] | None = None
) -> dict[str, Channel]:
    """Every channel the configuration enables; a missing secret is a one-line error."""
    a = config.alerts
    timeout = a.timeout.total_seconds()
    out: dict[str, Channel] = {}
    if a.console:
        out["console"] = ConsoleNotifier(write)
    if a.slack:
        if secrets.slack_webhook_url is None:
            raise ConfigError("alerts.slack is on: set DRIFTSCOPE_SLACK_WEBHOOK_URL")
        _check_url(secrets.slack_webhook_url, "DRIFTSCOPE_SLACK_WEBHOOK_URL")
        out["slack"] = SlackNotifier(secrets.slack_webhook_url, timeout)
    if a.webhook or a.retrain.webhook:
        if secrets.webhook_url is None:
            raise ConfigError("a webhook is on: set DRIFTSCOPE_WEBHOOK_URL")
        _check_url(secrets.webhook_url, "DRIFTSCOPE_WEBHOOK_URL")
        out["webhook"] = WebhookNotifier(secrets.webhook_url, timeout)
    if a.retrain.kafka and a.retrain.policies:
        opts = kafka_client_options(config.kafka, secrets)
        out["kafka"] = KafkaNotifier(config.kafka.retrain_topic, opts, timeout)
    if a.retrain.command:
        out["command"] = CommandNotifier(a.retrain.command,
                                         a.retrain.command_timeout.total_seconds())
    return out


def dispatcher(
    store: Store, config: Config, secrets: Secrets, *,
    write: Callable[[str], Any] | None = None, sleep: Callable[[float], None] | None = None,
    after_send: Callable[[str], None] | None = None,
) -> Dispatcher:
    """A dispatcher over the configured channels with the configured retries and backoff.

    Its outbox lease lives 3 minutes, or three times the longest wait between renewals (a
    send's ``timeout``, the retrain command's ``command_timeout`` or a ``backoff_max``
    wait) where that is longer: a holder renews before each attempt and wait, and must do
    so within half the lease.
    """
    a = config.alerts
    kwargs: dict[str, Any] = {}
    if sleep is not None:
        kwargs["sleep"] = sleep
    longest = max(a.timeout, a.backoff_max,
                  a.retrain.command_timeout if a.retrain.command else a.timeout)
    lease_ttl = max(180.0, 3 * longest.total_seconds())
    return Dispatcher(Outbox(store), build_channels(config, secrets, write), retries=a.retries,
                      backoff=a.backoff.total_seconds(), backoff_max=a.backoff_max.total_seconds(),
                      after_send=after_send, lease_ttl=lease_ttl, **kwargs)
