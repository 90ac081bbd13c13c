"""Slack through slack_sdk's incoming-webhook client (``slack_sdk.webhook.WebhookClient``).

The URL is a secret (``DRIFTSCOPE_SLACK_WEBHOOK_URL``): it is held as a
:class:`pydantic.SecretStr` and redacted from every error.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.webhook import WebhookClient

from driftscope.alerts.notifiers.webhook import SecretUrlNotifier, redact
from driftscope.errors import NotifierError


@functools.cache
def _quiet_logger() -> logging.Logger:
    """slack_sdk logs the request URL at DEBUG and INFO: give it a logger that never does.

    Set up on first use, not at import. Failures reach the caller as a redacted
    :class:`NotifierError`, so the logger keeps nothing (a NullHandler, no propagation).
    """
    logger = logging.getLogger("driftscope.alerts.slack_sdk")
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    return logger


class SlackNotifier(SecretUrlNotifier):
    """Send a Block Kit payload (``{"text": …, "blocks": […]}``) to an incoming webhook."""

    name = "slack"

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        url = self._url.get_secret_value()
        client = WebhookClient(url, timeout=int(max(self.timeout, 1)), logger=_quiet_logger())
        try:
            resp = client.send_dict(dict(payload), headers={"Idempotency-Key": key})
        except Exception as exc:  # urllib and socket errors surface as many types
            raise NotifierError(redact(f"slack unreachable: {type(exc).__name__}: {exc}",
                                       url)) from None
        if resp.status_code != 200:
            body = redact(str(resp.body)[:200], url)
            raise NotifierError(f"slack answered HTTP {resp.status_code}: {body}")
