"""What the HTTP notifiers (Slack, webhook) share: no redirects, and what an answer means.

A POST is never redirected: urllib would re-send a 301/302 as a GET without the body, the
new URL would answer 200, and the message would count as sent. A 3xx is a failed
attempt instead. A 429 is a :class:`RateLimited` (with its ``Retry-After``), any other 4xx
but 408 and 409 a :class:`Rejected` (permanent: the dispatcher tries no more in this
run; a 409 answers a request whose idempotency key is still being processed: retried).

Examples
--------
>>> redact_urls("moved to https://hooks.example/T0/B0/xyz?k=1, see http://docs.example/")
'moved to https://hooks.example/<redacted>, see http://docs.example/'
>>> retry_after("20")
20.0
>>> redact("failed: https://hooks.example/T0/B0/xyz timed out", "https://hooks.example/T0/B0/xyz")
'failed: <webhook-url> timed out'
"""

from __future__ import annotations

import re
import ssl
import time
import urllib.request
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from driftscope.errors import NotifierError

MAX_RETRY_AFTER = 3600.0  # a longer Retry-After is read as an hour
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def redact(text: str, secret: str) -> str:
    """``text`` with the secret (and its path, which holds the token) replaced."""
    if not secret:
        return text
    out = text.replace(secret, "<webhook-url>")
    path = secret.split("://", 1)[-1].split("/", 1)[-1]
    if len(path) > 6:
        out = out.replace(path, "<redacted>")
    return out


class RateLimited(NotifierError):
    """The receiver asked to wait (HTTP 429); ``retry_after`` in seconds, if it said."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Rejected(NotifierError):
    """The receiver refused the message for good (a 4xx): retrying now cannot help."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx


def opener(context: ssl.SSLContext | None = None, proxy: str | None = None,
           ) -> urllib.request.OpenerDirector:
    """urllib's opener (proxies from the environment, or ``proxy``) that never redirects."""
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect(),
                                                  urllib.request.HTTPSHandler(context=context)]
    if proxy:
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    return urllib.request.build_opener(*handlers)


def redact_urls(text: str) -> str:
    """Every URL in ``text`` cut to its scheme and host: paths, queries and user info
    hold tokens."""
    def cut(m: re.Match[str]) -> str:
        url = m.group(0).rstrip(".,;:)")
        parts = urlsplit(url)
        host = parts.hostname or ""
        host += f":{parts.port}" if parts.port else ""
        tail = m.group(0)[len(url):]
        rest = url.split(parts.netloc, 1)[-1] if parts.netloc else url
        return f"{parts.scheme}://{host}{'/<redacted>' if rest.strip('/') else rest}{tail}"
    try:
        return _URL.sub(cut, text)
    except ValueError:  # a port that is not a number
        return _URL.sub("<url>", text)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` (seconds or an HTTP-date), at most
    :data:`MAX_RETRY_AFTER`; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        wait = float(value) if value.isdigit() else (
            parsedate_to_datetime(value).timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(wait, 0.0), MAX_RETRY_AFTER)


def answer_error(service: str, status: int, headers: Mapping[str, str], body: str,
                 url: str) -> NotifierError:
    """The error for an answer that is not 2xx, in one line without secrets."""
    head = f"{service} answered HTTP {status}"
    lower = {k.lower(): v for k, v in headers.items()}
    if 300 <= status < 400:
        where = lower.get("location")
        target = redact_urls(urljoin(url, where)) if where else "nowhere (no Location)"
        return NotifierError(f"{head}, a redirect to {target}: not followed (fix the URL)")
    detail = " ".join(redact_urls(redact(body, url)).split())[:200]
    text = f"{head}: {detail}" if detail else head
    if status == 429:
        wait = retry_after(lower.get("retry-after"))
        return RateLimited(text if wait is None else f"{text} (retry after {wait:g}s)", wait)
    if 400 <= status < 500 and status not in (408, 409):  # (409: the same key in flight)
        return Rejected(text)
    return NotifierError(text)
