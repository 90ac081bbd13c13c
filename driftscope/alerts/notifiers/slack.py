"""Slack through slack_sdk's incoming-webhook client (``slack_sdk.webhook.WebhookClient``).

The URL is a secret (``DRIFTSCOPE_SLACK_WEBHOOK_URL``): it is held as a
:class:`pydantic.SecretStr` and redacted from every error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr
from slack_sdk.webhook import WebhookClient

from driftscope.alerts.notifiers.webhook import redact
from driftscope.errors import NotifierError

# slack_sdk logs the request URL at DEBUG; its logger here never goes below WARNING.
_QUIET = logging.getLogger("driftscope.alerts.slack_sdk")
_QUIET.setLevel(logging.WARNING)
_QUIET.propagate = False


class SlackNotifier:
    """Send a Block Kit payload (``{"text": …, "blocks": […]}``) to an incoming webhook."""

    name = "slack"

    def __init__(self, url: SecretStr, timeout: float = 10.0) -> None:
        self._url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return "SlackNotifier(url=**********)"

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        url = self._url.get_secret_value()
        client = WebhookClient(url, timeout=int(max(self.timeout, 1)), logger=_QUIET)
        try:
            resp = client.send_dict(dict(payload), headers={"Idempotency-Key": key})
        except Exception as exc:  # urllib and socket errors surface as many types
            raise NotifierError(redact(f"slack unreachable: {type(exc).__name__}: {exc}",
                                       url)) from None
        if resp.status_code != 200:
            body = redact(str(resp.body)[:200], url)
            raise NotifierError(f"slack answered HTTP {resp.status_code}: {body}")
