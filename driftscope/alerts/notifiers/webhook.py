"""A generic JSON webhook: POST the payload with an ``Idempotency-Key`` header.

Never redirected; a 429 or another 4xx is told apart (:mod:`.http`).
"""

from __future__ import annotations

import http.client
import json
import math
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from driftscope.alerts.notifiers.http import answer_error, opener, redact
from driftscope.errors import NotifierError

__all__ = ["SecretUrlNotifier", "WebhookNotifier", "redact", "strict_json"]


def strict_json(payload: Mapping[str, Any]) -> str:
    """JSON any parser reads: NaN and infinities become null (``json.dumps`` writes
    ``NaN``, which is not JSON).

    >>> strict_json({"threshold": float("nan"), "x": [1.5, float("inf")]})
    '{"threshold": null, "x": [1.5, null]}'
    """
    def clean(x: Any) -> Any:
        if isinstance(x, float):
            return x if math.isfinite(x) else None
        if isinstance(x, Mapping):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(payload), sort_keys=True, allow_nan=False)


class SecretUrlNotifier:
    """Base of the notifiers whose URL is a secret: kept as a SecretStr, never in a repr."""

    def __init__(self, url: SecretStr, timeout: float = 10.0) -> None:
        self._url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url=**********)"


class WebhookNotifier(SecretUrlNotifier):
    """POST JSON to a URL held as a secret (``DRIFTSCOPE_WEBHOOK_URL``)."""

    name = "webhook"

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        url = self._url.get_secret_value()
        body = strict_json({**payload, "idempotency_key": key}).encode()
        req = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json", "Idempotency-Key": key},
        )
        try:
            with opener().open(req, timeout=self.timeout) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            text = exc.read(2000).decode("utf-8", "replace") if exc.fp else ""
            raise answer_error("webhook", exc.code, dict(exc.headers.items()), text,
                               url) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NotifierError(redact(f"webhook unreachable: {reason}", url)) from None
        except http.client.HTTPException as exc:  # not HTTP at all, or cut off
            raise NotifierError(f"webhook answered badly: {type(exc).__name__}") from None
        if status >= 300:
            raise answer_error("webhook", status, {}, "", url)
