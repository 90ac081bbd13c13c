"""Slack through slack_sdk's incoming-webhook client (``slack_sdk.webhook.WebhookClient``).

The URL is a secret (``DRIFTSCOPE_SLACK_WEBHOOK_URL``): it is held as a
:class:`pydantic.SecretStr` and redacted from every error.

The client has no retry handlers (slack_sdk's default re-POSTs after a connection error,
unseen and uncounted: the dispatcher's own retries are the only ones) and never follows a
redirect (:mod:`.http`; its request method opens through an opener without redirects).
"""

from __future__ import annotations

import functools
import logging
import urllib.request
from collections.abc import Mapping
from typing import Any

from slack_sdk.webhook import WebhookClient, WebhookResponse

from driftscope.alerts.notifiers.http import answer_error, opener, redact
from driftscope.alerts.notifiers.webhook import SecretUrlNotifier
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


class _Client(WebhookClient):
    """slack_sdk's client, opening its request without following redirects (the rest of
    ``_perform_http_request_internal`` as slack_sdk 3.x has it)."""

    def _perform_http_request_internal(self, url: str, req: urllib.request.Request,
                                       ) -> WebhookResponse:
        if not url.lower().startswith("http"):
            raise NotifierError("slack webhook URL is not http(s)")
        with opener(self.ssl, self.proxy).open(req, timeout=self.timeout) as resp:
            charset = resp.headers.get_content_charset() or "utf-8"
            return WebhookResponse(url=url, status_code=resp.status,
                                   body=resp.read().decode(charset), headers=resp.headers)


class SlackNotifier(SecretUrlNotifier):
    """Send a Block Kit payload (``{"text": …, "blocks": […]}``) to an incoming webhook."""

    name = "slack"

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        url = self._url.get_secret_value()
        # the timeout as set (slack_sdk types it int; urllib, which opens it, takes a float:
        # given whole seconds, 1900ms waited 1 s and any value under a second a whole one)
        client = _Client(url, timeout=self.timeout,  # type: ignore[arg-type]
                         logger=_quiet_logger(), retry_handlers=[])
        try:
            resp = client.send_dict(dict(payload), headers={"Idempotency-Key": key})
        except NotifierError:
            raise
        except Exception as exc:  # urllib and socket errors surface as many types
            raise NotifierError(redact(f"slack unreachable: {type(exc).__name__}: {exc}",
                                       url)) from None
        if resp.status_code != 200:
            raise answer_error("slack", resp.status_code, dict(resp.headers or {}),
                               str(resp.body or ""), url)
