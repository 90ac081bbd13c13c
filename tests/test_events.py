from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from driftscope.errors import EventError
from driftscope.events import FeedbackEvent, PredictionEvent, canonical, parse_event

GOOD = {
    "model_id": "churn",
    "model_version": "3",
    "event_id": "e-1",
    "timestamp": "2026-01-01T02:00:00+02:00",
    "features": {"age": 41, "plan": "pro", "income": None, "vip": True, "ratio": 0.5},
    "predictions": {"score": 0.82, "class": "stay", "probs": [0.18, 0.82]},
    "label": "stay",
    "segments": {"country": "fr"},
}


def raw(obj: object) -> bytes:
    return json.dumps(obj).encode()


def test_a_good_event_round_trips_and_is_utc() -> None:
    ev = parse_event(raw(GOOD))
    assert isinstance(ev, PredictionEvent)
    assert ev.timestamp.isoformat() == "2026-01-01T00:00:00+00:00"
    assert ev.features == GOOD["features"]
    assert ev.predictions["probs"] == [0.18, 0.82]
    assert parse_event(ev.model_dump_json().encode()) == ev


def test_event_id_defaults_to_a_unique_uuid() -> None:
    body = {k: v for k, v in GOOD.items() if k != "event_id"}
    a, b = parse_event(raw(body)), parse_event(raw(body))
    assert a.event_id != b.event_id and len(a.event_id) == 32


def test_feedback_is_its_own_kind() -> None:
    ev = parse_event(raw({"kind": "feedback", "model_id": "churn", "event_id": "e-1", "label": 1}))
    assert isinstance(ev, FeedbackEvent) and ev.label == 1


@pytest.mark.parametrize(
    ("payload", "reason", "needle"),
    [
        (b"{not json", "malformed_json", "malformed JSON"),
        (b"\xff\xfe\x00{}", "not_utf8", "not UTF-8"),
        # a NaN or Infinity literal names its field, as 1e999 does (it said only "NaN is
        # not allowed", leaving the user to search a 100-feature event for it)
        (b'{"model_id": "m", "features": {"a": NaN}}', "non_finite",
         "features.a: NaN or infinity is not allowed; send null when missing"),
        (b'{"model_id": "m", "features": {"a": Infinity}}', "non_finite", "features.a: NaN"),
        (b'{"model_id": "m", "predictions": {"p": -Infinity}}', "non_finite",
         "predictions.p: NaN or infinity is not allowed; leave a missing prediction out"),
        (b'{"model_id": "m", "timestamp": NaN}', "non_finite",
         "timestamp: NaN or infinity is not allowed; leave the timestamp out when not known"),
        (b'{"kind": "feedback", "model_id": "m", "event_id": "e", "label": NaN}', "non_finite",
         "label: NaN or infinity is not allowed"),
        # an integer no float holds was taken, then failed when stored, naming no field
        (raw({**GOOD, "features": {"x": 10**400}}), "schema",
         "features.x: an integer beyond ±1.8e308 (what a float holds) is not allowed"),
        (raw({**GOOD, "predictions": {"p": -(10**400)}}), "schema", "predictions.p: an integer"),
        (raw({**GOOD, "predictions": {"p": [0, 10**400]}}), "schema", "predictions.p: an integer"),
        (raw({"kind": "feedback", "model_id": "m", "event_id": "e", "label": 10**400}), "schema",
         "label: an integer beyond ±1.8e308 (what a float holds) is not allowed"),
        # a mistyped kind is told the kinds there are, not "should be 'prediction'"
        (raw({"kind": "Feedback", "model_id": "m", "event_id": "e", "label": 1}), "schema",
         "kind: expected 'prediction' or 'feedback', got 'Feedback'"),
        (raw({"kind": "feedback ", "model_id": "m", "event_id": "e", "label": 1}), "schema",
         "kind: expected 'prediction' or 'feedback', got 'feedback '"),
        (raw({**GOOD, "kind": None}), "schema", "kind: expected 'prediction' or 'feedback'"),
        (b'{"model_id": "m", "features": {"a": 1e999}}', "non_finite", "features.a"),
        # a class probability that overflows (said "got a list whose item 1 is float")
        (b'{"model_id": "m", "predictions": {"p": [0.5, 1e999]}}', "non_finite",
         "predictions.p: NaN or infinity"),
        (raw({"features": {}}), "schema", "model_id"),
        (raw({**GOOD, "extra": 1}), "schema", "extra"),
        (raw({**GOOD, "timestamp": "2026-01-01T00:00:00"}), "schema", "time zone"),
        (raw({**GOOD, "features": {"a": [1, 2]}}), "schema", "features.a"),
        (raw({**GOOD, "features": {"a": {"b": 1}}}), "schema", "features.a"),
        (raw({**GOOD, "predictions": {"p": None}}), "schema", "predictions.p"),
        (raw([1, 2]), "schema", "JSON object"),
        (b'{"model_id": "' + b"x" * 2_000_000 + b'"}', "oversized", "limit"),
        # strings UTF-8 cannot encode would crash the flush: a value, a label, a key
        (b'{"model_id": "m", "features": {"c": "\\udfff"}}', "not_utf8", "features.c: "),
        (b'{"model_id": "m", "predictions": {"p": "\\ud800"}}', "not_utf8", "predictions.p: "),
        (b'{"model_id": "m", "label": "\\udfff"}', "not_utf8", "label: "),
        (b'{"model_id": "m", "features": {"c\\ud800": 1}}', "not_utf8", "features: the name 'c"),
        (b'{"model_id": "m", "kind": "feedback", "event_id": "e", "label": "\\udfff"}',
         "not_utf8", "label: "),
        # what ClickHouse cannot store, or a window start cannot be computed for
        (raw({**GOOD, "timestamp": "0001-01-01T00:00:00+01:00"}), "schema", "1900"),
        (raw({**GOOD, "timestamp": "0001-01-02T00:00:00Z"}), "schema", "1900"),
        (raw({**GOOD, "timestamp": "9999-12-31T23:59:59Z"}), "schema", "2299"),
        (raw({**GOOD, "timestamp": -3e9}), "schema", "1900"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed_json", "nested too deeply"),
        # keys are escaped so that the error stays one meaningful line
        (raw({**GOOD, "features": {"a\nb": {"x": 1}}}), "schema", "features.a\\nb: expected"),
        (b'{"model_id": "m", "\\nfeaturs": 1}', "schema", "\\nfeaturs: Extra inputs"),
        # an unknown field is unknown whatever its value (a NaN one read "NaN is not allowed")
        (b'{"model_id": "m", "featurs": NaN}', "schema", "featurs: Extra inputs"),
        # a feature named like a union member's type keeps its name in the error
        (raw({**GOOD, "features": {"int": {"b": 1}}}), "schema", "features.int: expected"),
        (raw({**GOOD, "features": {"none": [1]}}), "schema", "features.none: expected"),
        (raw({**GOOD, "predictions": {"float": {}}}), "schema", "predictions.float: expected"),
        (raw({**GOOD, "segments": {"int": 1}}), "schema", "segments.int: "),
        (b'{"model_id": "m", "features": {"bool": 1e999}}', "non_finite", "features.bool: "),
        (b'{"model_id": "m", "features": {"str": "\\udfff"}}', "not_utf8", "features.str: "),
        # a name that cannot be one says so, not pydantic's "[key]" location tag
        (raw({**GOOD, "features": {"": 1}}), "schema",
         "features: names must be 1 to 200 characters, got an empty name"),
        (raw({**GOOD, "segments": {"k" * 201: "a"}}), "schema", "(201 characters)"),
        (b'{"model_id": "m", "features": {"\\udfff": 1}}', "not_utf8",
         "features: the name '\ufffd\ufffd\ufffd' holds a lone surrogate"),
        # a list of class probabilities holding something else names the item
        (raw({**GOOD, "predictions": {"p": [0.5, "x"]}}), "schema",
         "predictions.p: expected a number, string, boolean or a list of class probabilities,"
         " got a list whose item 1 is str"),
        # prediction p is profiled and typed as prediction.p: a feature may not take its place
        (raw({**GOOD, "features": {"prediction.score": "high"}}), "schema",
         "features: 'prediction.score' cannot be a feature name"),
    ],
)
def test_bad_events_fail_with_a_reason_and_one_line(
    payload: bytes, reason: str, needle: str
) -> None:
    with pytest.raises(EventError) as info:
        parse_event(payload)
    assert info.value.reason == reason
    assert needle in str(info.value)
    assert len(str(info.value).splitlines()) == 1
    str(info.value).encode()  # storable as UTF-8


def test_the_supported_timestamp_range_is_accepted() -> None:
    for ts in ("1900-01-01T00:00:00Z", "2299-12-31T23:59:59.999Z", "1900-01-01T01:00:00+01:00"):
        assert parse_event(raw({**GOOD, "timestamp": ts})).timestamp.tzinfo is not None


def test_a_timestamp_is_iso_8601_or_unix_seconds_or_milliseconds() -> None:
    """What docs/events.md promises (pydantic's rule: beyond 2e10 a number is milliseconds)."""
    want = datetime(2026, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)
    for ts in ("2026-01-01T01:00:00.5+01:00", "2026-01-01 00:00:00.5Z", 1767225600.5,
               "1767225600.5", 1767225600500, "1767225600500"):
        assert parse_event(raw({**GOOD, "timestamp": ts})).timestamp == want, ts
    for ts in ("2026-01-01", "20260101T000000Z", True):
        with pytest.raises(EventError):
            parse_event(raw({**GOOD, "timestamp": ts}))


def test_a_time_zone_of_hours_alone_is_read() -> None:
    """ISO-8601 allows an offset of hours alone, as PostgreSQL writes a timestamptz
    (``2026-01-01 00:00:00+00``): such events were dead-lettered ("unexpected extra
    characters"), and refused by ``PredictionLogger`` (whose path is ``model_validate``)."""
    for ts, want in (("2026-01-01 00:00:00+00", datetime(2026, 1, 1, tzinfo=UTC)),
                     ("2026-01-01T09:00:00+09", datetime(2026, 1, 1, tzinfo=UTC)),
                     ("2026-01-01T00:00:00.123-05", datetime(2026, 1, 1, 5, 0, 0, 123000, UTC)),
                     ("2026-01-01T00:00-01", datetime(2026, 1, 1, 1, tzinfo=UTC))):
        assert parse_event(raw({**GOOD, "timestamp": ts})).timestamp == want, ts
        assert PredictionEvent.model_validate({**GOOD, "timestamp": ts}).timestamp == want
        feedback = {"kind": "feedback", "model_id": "m", "event_id": "e", "label": 1}
        assert parse_event(raw({**feedback, "timestamp": ts})).timestamp == want, ts
    for ts in ("2026-01-01+05", "2026-01-01T00:00:00+5", "2026-01-01T00:00:00+123"):
        with pytest.raises(EventError):
            parse_event(raw({**GOOD, "timestamp": ts}))


def test_strings_are_not_coerced_to_numbers() -> None:
    ev = parse_event(raw({**GOOD, "features": {"zip": "01234"}}))
    assert isinstance(ev, PredictionEvent)
    assert ev.features["zip"] == "01234"


def test_canonical_makes_integral_floats_and_ints_agree() -> None:
    assert canonical(1) == canonical(1.0) == "1"
    assert canonical(True) == "true"
    assert canonical(0.25) == "0.25"
