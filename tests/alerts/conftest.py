"""Slack and webhooks as local HTTP servers on 127.0.0.1 that record what they receive
(:mod:`http_recorder`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_recorder import Recorder, serving


@pytest.fixture
def slack() -> Iterator[Recorder]:
    yield from serving()


@pytest.fixture
def webhook() -> Iterator[Recorder]:
    yield from serving()
