"""Which models the collector knows, the types of their features, and event → row.

A model is known when it is listed in the configuration; an unknown model is either
auto-registered with the defaults of :class:`~driftscope.config.ModelConfig` or
dead-lettered (``collector.unknown_models``). The kind of every feature and prediction
(``numeric``, ``categorical`` or ``probs``) is fixed by the first non-null value seen;
a later value of another kind is dead-lettered with reason ``type_change``. Integers and
floats are both ``numeric``; booleans and strings are ``categorical`` (booleans as
``"true"``/``"false"``).

Examples
--------
>>> value_kind(3), value_kind(2.5), value_kind(True), value_kind("a"), value_kind(None)
('numeric', 'numeric', 'categorical', 'categorical', None)
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from driftscope.config import Config, ModelConfig
from driftscope.errors import EventError
from driftscope.events import PREDICTION_PREFIX, EventTime, PredictionEvent, canonical, loc_part

NUMERIC, CATEGORICAL, PROBS = "numeric", "categorical", "probs"
PRED_PREFIX = PREDICTION_PREFIX
"""Predictions are typed (and profiled) under ``prediction.<name>``; validation rejects
feature names that start so, which would collide with them."""

log = logging.getLogger("driftscope.collector")
_MODEL_ID = re.compile(rb'"model_id"\s*:\s*"([^"\\]{1,200})"')

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

Payload = tuple[Any, ...]
"""The columns of ``schema.EVENT_PAYLOAD`` in order."""


def value_kind(value: Any) -> str | None:
    """The kind of one wire value; None for null."""
    if value is None:
        return None
    if isinstance(value, bool | str):
        return CATEGORICAL
    if isinstance(value, int | float):
        return NUMERIC
    return PROBS


def guess_model_id(raw: bytes) -> str:
    """Best effort ``model_id`` of a message that failed validation ('' when unknown)."""
    m = _MODEL_ID.search(raw[:65_536])
    if not m:
        return ""
    try:
        return m.group(1).decode("utf-8")
    except UnicodeDecodeError:
        return ""


def guess_event_time(raw: bytes, max_bytes: int) -> datetime | None:
    """Best effort event time of a message that failed validation: its ``timestamp`` read
    as an event's would be (ISO-8601 with a zone, or Unix seconds or milliseconds); None
    when it has none that reads, or is larger than an event may be."""
    if len(raw) > max_bytes:
        return None
    try:
        value = json.loads(raw)
        if not isinstance(value, dict) or value.get("timestamp") is None:
            return None
        return EventTime.model_validate({"timestamp": value["timestamp"]}).timestamp
    except (ValueError, UnicodeDecodeError, RecursionError):  # (pydantic's errors included)
        return None


TOLD_MODELS = 20
"""New auto-registered models told by a WARNING each, per process: an application that
sends a request id as ``model_id`` floods no log."""


class ModelRegistry:
    """Model configurations and the feature kinds learned so far.

    ``known`` maps model_id → {name: kind}, as loaded from ``model_features``.
    :meth:`check` returns the (model_id, name, kind) triples it learned from an event,
    for the caller to persist.
    """

    def __init__(self, config: Config, known: dict[str, dict[str, str]] | None = None) -> None:
        self.config = config
        self.kinds: dict[str, dict[str, str]] = {m: dict(k) for m, k in (known or {}).items()}
        self._models: dict[str, ModelConfig] = {m.id: m for m in config.models}
        self._configured = [m.id for m in config.models]
        self._new_models = 0  # auto-registered models new to the store, told as WARNINGs

    def model(self, model_id: str) -> ModelConfig:
        """The configuration of a model; raises ``EventError('unknown_model')``."""
        found = self._models.get(model_id)
        if found is not None:
            return found
        if self.config.collector.unknown_models == "dead_letter":
            raise EventError(
                "unknown_model",
                f"model {model_id!r} is not in the configuration; add it under models: "
                "or set collector.unknown_models: auto_register",
            )
        cap = self.config.collector.max_models
        if model_id not in self.kinds and len(self.kinds.keys() | self._models.keys()) >= cap:
            # each model holds windows open of its own: ids without end (a request id
            # sent as model_id) would grow the collector's memory without end
            raise EventError(
                "unknown_model",
                f"model {model_id!r} is not in the configuration and {cap} models are known "
                "already (collector.max_models): a request or version id sent as model_id? "
                "Add it under models: or raise collector.max_models",
            )
        found = ModelConfig(id=model_id)
        self._models[model_id] = found
        if model_id not in self.kinds:  # new to the store, not only to this process
            self._new_models += 1
            if self._new_models <= TOLD_MODELS:
                # the configured model it may have meant: not another auto-registered one,
                # and not a search through every id seen (a request id sent as model_id
                # made each new event slower than the last)
                close = difflib.get_close_matches(model_id, self._configured, n=1)
                log.warning("collector: model %r is not in models: and has no event stored; "
                            "collecting it with the defaults (unknown_models: auto_register)"
                            "%s%s", model_id, f"; did you mean {close[0]!r}?" if close else "",
                            "; further new models are not told" if
                            self._new_models == TOLD_MODELS else "")
        return found

    def check(self, event: PredictionEvent) -> list[tuple[str, str, str]]:
        """Validate the kinds of an event's values; return the kinds learned from it."""
        kinds = self.kinds.get(event.model_id)
        if kinds is None:
            kinds = self.kinds[event.model_id] = {}
        learned: list[tuple[str, str]] = []
        for prefix, values in (("", event.features), (PRED_PREFIX, event.predictions)):
            for name, value in values.items():
                kind = _KIND_OF.get(type(value), PROBS)
                if kind is None:
                    continue
                key = prefix + name if prefix else name
                seen = kinds.get(key)
                if seen is None:
                    learned.append((key, kind))
                elif seen != kind:  # (the name escaped: a dead letter keeps one line)
                    raise EventError("type_change", f"{loc_part(key)}: was {seen}, now {kind}; "
                                                    "send a new feature name")
        for name, kind in learned:  # only after the whole event passed
            kinds[name] = kind
        return [(event.model_id, name, kind) for name, kind in learned]


_KIND_OF: dict[type, str | None] = {
    float: NUMERIC,
    int: NUMERIC,
    bool: CATEGORICAL,
    str: CATEGORICAL,
    type(None): None,
    list: PROBS,
}


def payload(event: PredictionEvent) -> Payload:
    """The ``EVENT_PAYLOAD`` columns of one prediction event."""
    num: dict[str, float] = {}
    cat: dict[str, str] = {}
    null: list[str] = []
    for name, value in event.features.items():
        if value is None:
            null.append(name)
        elif isinstance(value, bool | str):
            cat[name] = canonical(value)
        else:
            num[name] = float(value)
    pnum: dict[str, float] = {}
    pcat: dict[str, str] = {}
    probs: dict[str, list[float]] = {}
    for name, pv in event.predictions.items():
        if isinstance(pv, list):
            probs[name] = [float(x) for x in pv]
        elif isinstance(pv, bool | str):
            pcat[name] = canonical(pv)
        else:
            pnum[name] = float(pv)
    label = None if event.label is None else canonical(event.label)
    return (
        event.model_id,
        event.model_version,
        event.event_id,
        event.timestamp,
        num,
        cat,
        null,
        pnum,
        pcat,
        probs,
        label,
        dict(event.segments),
    )


def profile_record(p: Payload) -> dict[str, Any]:
    """One row of the profile frame: features, then ``prediction.<name>`` columns."""
    rec: dict[str, Any] = {**p[4], **p[5]}
    for name in p[6]:
        rec[name] = None
    for name, value in p[7].items():
        rec[PRED_PREFIX + name] = value
    for name, value in p[8].items():
        rec[PRED_PREFIX + name] = value
    return rec


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of epoch milliseconds."""
    return _EPOCH + ms * _MS


def epoch_ms(ts: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return (ts - _EPOCH) // _MS
