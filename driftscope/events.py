"""The wire schema of prediction and feedback events, and their frozen internal form.

On the wire an event is one JSON object. A *prediction* event carries the model's
inputs and outputs; a *feedback* event (``"kind": "feedback"``) carries a label that
arrived later, joined to its prediction by ``event_id``. Unknown fields are rejected;
NaN and infinity are rejected, and so are integers beyond a float's range (features and
predictions are stored as floats); every string must be encodable as UTF-8; no feature name
starts with ``prediction.`` (where predictions are profiled). A timestamp is ISO-8601 with a
time zone (``±hh`` alone too), or Unix time as a number or numeric string (pydantic's
rule: seconds, or milliseconds when its magnitude exceeds 2e10); it must lie in 1900–2299
(what ClickHouse stores) and is kept in UTC.

Examples
--------
>>> ev = parse_event(b'{"model_id": "churn", "model_version": "3", '
...                  b'"timestamp": "2026-01-01T00:00:00Z", "features": {"age": 41}, '
...                  b'"predictions": {"score": 0.82}}')
>>> ev.model_id, ev.features["age"]
('churn', 41)
"""

from __future__ import annotations

import json
import math
import numbers
import re
import reprlib
import sys
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from driftscope.errors import EventError

MAX_EVENT_BYTES = 1_000_000
"""Events larger than this are dead-lettered as ``oversized``."""

MIN_TIMESTAMP = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP = datetime(2300, 1, 1, tzinfo=UTC)
"""Event times must lie in ``[MIN_TIMESTAMP, MAX_TIMESTAMP)``: ClickHouse's DateTime64 range."""


def _encodable(s: str) -> bool:
    """False for a string UTF-8 cannot encode (a lone surrogate such as ``\\udfff``)."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _utf8(v: str) -> str:
    if not v.isascii() and not _encodable(v):
        raise PydanticCustomError("string_unicode", "not valid Unicode")
    return v


_LTR = Field(union_mode="left_to_right")
_Str = Annotated[StrictStr, AfterValidator(_utf8)]
_FLOAT_MAX = sys.float_info.max
_IN_FLOAT_RANGE = {"minimum": -_FLOAT_MAX, "maximum": _FLOAT_MAX}
_Int = Annotated[StrictInt, Field(ge=-int(_FLOAT_MAX), le=int(_FLOAT_MAX),
                                  json_schema_extra=_IN_FLOAT_RANGE)]
"""An integer a float holds: features and predictions are stored as floats (``10**400``
was taken, then failed when stored, naming no field)."""
_Float = Annotated[StrictFloat, Field(json_schema_extra=_IN_FLOAT_RANGE)]
FeatureValue = Annotated[StrictBool | _Int | _Float | _Str | None, _LTR]
PredictionValue = Annotated[StrictBool | _Int | _Float | _Str | list[_Int | _Float], _LTR]
LabelValue = Annotated[StrictBool | _Int | _Float | _Str, _LTR]
_UNION_AT = {"features": 2, "predictions": 2, "label": 1}
"""Where pydantic puts a union member's tag in an error location (after the name)."""
_UNION_PARTS = {
    "bool", "int", "constrained-int", "float", "str", "none", "list[union[constrained-int,float]]",
    "function-after[_utf8(),str]"
}
_NOT_ANOTHER_TYPE = ("string_unicode", "less_than_equal", "greater_than_equal")
"""Errors of a union's member that say what is wrong with a value of its type."""
_EXPECTED = {
    "features": "a number, string, boolean or null",
    "predictions": "a number, string, boolean or a list of class probabilities",
    "label": "a number, string or boolean",
}

_WHEN_MISSING = {
    "features": "send null when missing",
    "predictions": "leave a missing prediction out of the event (null is not allowed)",
    "label": "leave the label out when not known",
    "timestamp": "leave the timestamp out when not known (its Kafka record's time is taken)",
}
"""What to send instead of a non-finite value, by field (only a feature may be null)."""

_NAME = Annotated[str, Field(min_length=1, max_length=200)]
PREDICTION_PREFIX = "prediction."
"""Predictions are typed and profiled as ``prediction.<name>``: no feature may start so."""
_FEATURE_NAME = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra={
    "not": {"pattern": "^" + re.escape(PREDICTION_PREFIX)}})]
_MS_ABOVE = 20_000_000_000
"""pydantic's rule: a Unix time whose magnitude exceeds this is milliseconds, else seconds."""
_MIN_S, _MAX_S = int(MIN_TIMESTAMP.timestamp()), int(MAX_TIMESTAMP.timestamp())
_TIME = Annotated[datetime, WithJsonSchema({
    "title": "Timestamp",
    "description": "ISO-8601 with a time zone, or Unix time (seconds, or milliseconds above "
                   "2e10) as a number or a string of one; 1900-01-01 to 2299-12-31 (UTC)",
    "anyOf": [
        {"type": "string", "pattern": r"^(19|2[0-2])[0-9]{2}-[0-9]{2}-[0-9]{2}[Tt _][0-9]{2}:"
                                      r"[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?([Zz]|[+-][0-9]{2}"
                                      r"(:?[0-9]{2})?)$"},
        {"type": "number", "minimum": _MIN_S, "exclusiveMaximum": _MAX_S},
        {"type": "number", "minimum": _MIN_S * 1000, "exclusiveMaximum": -_MS_ABOVE},
        {"type": "number", "exclusiveMinimum": _MS_ABOVE, "exclusiveMaximum": _MAX_S * 1000},
        {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}]})]
"""An event's time as the collector reads it (the schema said an ISO string only: a team
validating against it dropped events with a Unix time, which the collector takes). What
JSON Schema can say of its range: the year of an ISO string (not its zone's shift across
1900 or 2300), a number's bounds in seconds and in milliseconds; a string of a number's
range is not checked. No ``format: date-time``: RFC 3339 refuses ``+00`` and a space."""
_HOURS_OFFSET = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?[+-][0-9]{2}\Z")
"""A time whose zone offset is hours alone (``…00:00+00``, as PostgreSQL writes a
timestamptz): ISO-8601 allows it, pydantic reads only ``±hh:mm`` and ``±hhmm``."""


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=False)

    @field_validator("timestamp", mode="before", check_fields=False)
    @classmethod
    def _hours_offset(cls, v: Any) -> Any:
        """``±hh`` at the end of a time read as ``±hh:00``."""
        return v + ":00" if isinstance(v, str) and _HOURS_OFFSET.search(v) else v

    @field_validator("timestamp", check_fields=False)
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("timestamp must carry a time zone, e.g. 2026-01-01T00:00:00Z")
        if not MIN_TIMESTAMP <= v < MAX_TIMESTAMP:  # before astimezone, which can overflow
            raise ValueError("timestamp must lie between 1900-01-01 and 2299-12-31 (UTC)")
        return v.astimezone(UTC)


class EventTime(_Wire):
    """Only a message's ``timestamp``, read as an event's is (the time of a dead letter)."""

    timestamp: datetime


class PredictionEvent(_Wire):
    """One prediction: what the model saw and what it answered."""

    kind: Literal["prediction"] = "prediction"
    model_id: _NAME
    model_version: Annotated[str, Field(max_length=200)] = ""
    event_id: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        default_factory=lambda: uuid.uuid4().hex
    )
    timestamp: _TIME = Field(default_factory=lambda: datetime.now(UTC))
    features: dict[_FEATURE_NAME, FeatureValue] = Field(default_factory=dict)
    predictions: dict[_NAME, PredictionValue] = Field(default_factory=dict)
    label: LabelValue | None = None
    segments: dict[_NAME, Annotated[str, Field(max_length=200)]] = Field(default_factory=dict)

    @field_validator("features")
    @classmethod
    def _not_a_prediction(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if name.startswith(PREDICTION_PREFIX):
                raise PydanticCustomError(
                    "reserved_name",
                    "'{name}' cannot be a feature name: names starting with 'prediction.' "
                    "are reserved for predictions",
                    {"name": loc_part(name)},
                )
        return v


class FeedbackEvent(_Wire):
    """A label that arrived after the prediction, joined by ``event_id``."""

    kind: Literal["feedback"]
    model_id: _NAME
    event_id: Annotated[str, Field(min_length=1, max_length=200)]
    label: LabelValue
    timestamp: _TIME = Field(default_factory=lambda: datetime.now(UTC))


Event = PredictionEvent | FeedbackEvent


def loc_part(p: object) -> str:
    """One step of an error location, or a name in an error; a key that is not plain
    printable text is escaped (a line break would cut the dead letter's one-line error)."""
    s = str(p)
    return s if s.isprintable() and _encodable(s) else ascii(s)[1:-1]


def first_error(err: ValidationError) -> tuple[str, str]:
    """(reason, one-line message) for the first validation error."""
    errors = err.errors()
    # a string UTF-8 cannot encode, an integer no float holds, fail every member of a
    # union: report that, not "bool"
    e = next((x for x in errors if x["type"] in _NOT_ANOTHER_TYPE), errors[0])
    parts = [loc_part(p) for p in e["loc"]]
    if len(parts) >= 2 and parts[-1] == "[key]":  # a name (of a feature, segment …)
        return _name_error(e, ".".join(parts[:-2]) or "event", parts[-2])
    at = _UNION_AT.get(parts[0], len(parts)) if parts else 0
    union = len(parts) > at and parts[at].replace(" ", "").lower() in _UNION_PARTS
    if union:  # drop the member's tag, not a feature that happens to be named "int"
        del parts[at:]
    loc = ".".join(parts) or "event"
    if e["type"] == "string_unicode":
        return "not_utf8", f"{loc}: a lone surrogate (e.g. \\udfff) cannot be encoded as UTF-8"
    bad = e.get("input")
    if e["type"] == "extra_forbidden":  # (its value is no matter, a NaN one's either)
        return "schema", f"{loc}: Extra inputs are not permitted"
    if e["type"] == "finite_number" or (isinstance(bad, float) and not math.isfinite(bad)) \
            or (union and isinstance(bad, list)  # (class probabilities: "got a list whose
                and any(isinstance(x, float) and not math.isfinite(x) for x in bad)):  # item
        # 1 is float" sent the user looking for a type error)
        instead = _WHEN_MISSING.get(parts[0] if parts else "")
        return "non_finite", f"{loc}: NaN or infinity is not allowed" + (
            f"; {instead}" if instead else "")
    if e["type"] in _NOT_ANOTHER_TYPE:  # (of an _Int: the only numbers bounded)
        return "schema", f"{loc}: an integer beyond ±1.8e308 (what a float holds) is not allowed"
    if union and parts and parts[0] in _EXPECTED:
        got = type(e.get("input")).__name__ if "input" in e else "another type"
        item = next((x["loc"][at + 1] for x in errors if len(x["loc"]) > at + 1
                     and x["loc"][:at] == e["loc"][:at] and isinstance(x["loc"][at + 1], int)),
                    None)
        if got == "list" and item is not None:  # a list of probabilities, one not a number
            got = f"a list whose item {item} is {type(e['input'][item]).__name__}"
        return "schema", f"{loc}: expected {_EXPECTED[parts[0]]}, got {got}"
    return "schema", f"{loc}: {e['msg']}"


def _name_error(e: Any, where: str, shown_name: str) -> tuple[str, str]:
    """The one-line error of a name (a dict key) that is not 1 to 200 characters of UTF-8
    (``shown_name``: as the error's location shows it)."""
    if e["type"] == "string_unicode":
        return "not_utf8", f"{where}: the name {shown_name!r} holds a lone surrogate (e.g. " \
            "\\udfff), which cannot be encoded as UTF-8"
    name = e.get("input")
    if not isinstance(name, str):
        return "schema", f"{where}: a name: {e['msg']}"
    shown = "an empty name" if not name else \
        f"{loc_part(name[:40])!r}… ({len(name)} characters)" if len(name) > 200 else repr(name)
    return "schema", f"{where}: names must be 1 to 200 characters, got {shown}"


def parse_event(raw: bytes, *, max_bytes: int = MAX_EVENT_BYTES) -> Event:
    """Parse and validate one wire event; raise :class:`EventError` with a reason code.

    Reasons: ``oversized``, ``not_utf8``, ``malformed_json``, ``non_finite``, ``schema``.
    """
    if len(raw) <= max_bytes and b'"feedback"' not in raw:
        try:  # fast path: pydantic's own JSON parser, no intermediate dict
            return PredictionEvent.model_validate_json(raw)
        except ValidationError:
            pass  # fall through to the diagnostic path for a precise reason
    if len(raw) > max_bytes:
        raise EventError("oversized", f"event is {len(raw)} bytes, the limit is {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventError(
            "not_utf8", f"event is not UTF-8: {exc.reason} at byte {exc.start}"
        ) from None
    try:  # NaN and Infinity read as floats, for validation to refuse naming their field
        obj = json.loads(text)  # ("NaN is not allowed" alone left the user to search)
    except ValueError as exc:
        raise EventError("malformed_json", f"malformed JSON: {exc}") from None
    except RecursionError:
        raise EventError("malformed_json", "malformed JSON: nested too deeply") from None
    return validate_event(obj)


def validate_event(obj: Any) -> Event:
    """Validate an already-decoded JSON object."""
    if not isinstance(obj, dict):
        raise EventError("schema", f"event must be a JSON object, got {type(obj).__name__}")
    kind = obj.get("kind", "prediction")
    if kind not in ("prediction", "feedback"):  # ("should be 'prediction'" told a mistyped
        # feedback that feedback is no kind)
        raise EventError("schema", f"kind: expected 'prediction' or 'feedback', got "
                                   f"{reprlib.repr(kind)}")
    try:
        if kind == "feedback":
            return FeedbackEvent.model_validate(obj)
        return PredictionEvent.model_validate(obj)
    except ValidationError as exc:
        raise EventError(*first_error(exc)) from None


def is_missing(v: Any) -> bool:
    """None, NaN (Python's, numpy's or a ``Decimal``'s), or pandas' NA/NaT (recognised
    without importing pandas): how data frames say a value is missing."""
    return (v is None or type(v).__name__ in ("NAType", "NaTType")
            or (isinstance(v, numbers.Real) and v != v)
            # (not a numbers.Real; and ``!=`` raises on a signalling NaN)
            or (isinstance(v, Decimal) and v.is_nan()))


def canonical(value: Any) -> str:
    """Text form of a scalar used for categories and labels: ``1`` and ``1.0`` agree."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def export_json_schema() -> dict[str, Any]:
    """The JSON Schema of both event kinds (committed to docs/event.schema.json)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Driftscope event",
        "oneOf": [
            PredictionEvent.model_json_schema(),
            FeedbackEvent.model_json_schema(),
        ],
    }
