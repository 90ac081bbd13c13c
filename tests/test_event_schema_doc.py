from __future__ import annotations

import json
from pathlib import Path

from driftscope.events import export_json_schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "event.schema.json"


def test_committed_json_schema_matches_the_code() -> None:
    """Regenerate with: python -c 'import json; from driftscope.events import
    export_json_schema as s; print(json.dumps(s(), indent=2, sort_keys=True))'
    > docs/event.schema.json"""
    assert json.loads(DOC.read_text()) == json.loads(json.dumps(export_json_schema()))


def test_the_schema_takes_every_timestamp_the_collector_takes() -> None:
    """The schema said an ISO string only: a team validating events against it dropped
    those with a Unix time (a number, as `Date.now()` gives, or a string of one)."""
    import jsonschema

    from driftscope.events import parse_event

    schema = json.loads(DOC.read_text())
    for ts in (1767225600, 1767225600123, 1767225600.5, "1767225600.5",
               "2026-01-01T00:00:00Z"):
        event = {"model_id": "churn", "timestamp": ts, "features": {"age": 41}}
        parse_event(json.dumps(event).encode())  # the collector's reading
        jsonschema.validate(event, schema)
        jsonschema.validate({"kind": "feedback", "model_id": "churn", "event_id": "e1",
                             "label": 1, "timestamp": ts}, schema)
    bad = {"model_id": "churn", "timestamp": True}
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("a boolean time was taken")


def test_the_schema_and_the_collector_agree_on_what_they_refuse() -> None:
    """The schema took events the collector dead-letters (a feature named ``prediction.*``,
    a time outside 1900–2299, an integer no float holds): a team validating against it
    believed them sent. And the collector refused ``+00`` offsets, which the schema took."""
    import jsonschema

    from driftscope.errors import EventError
    from driftscope.events import parse_event

    validator = jsonschema.Draft202012Validator(
        json.loads(DOC.read_text()), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    max_ms, min_ms = 10_413_792_000_000, -2_208_988_800_000  # 2300-01-01, 1900-01-01
    cases: list[dict[str, object]] = [
        {"features": {"prediction.score": 1}}, {"features": {"prediction": 1, "Prediction.x": 1}},
        {"features": {"x": 10**400}}, {"features": {"x": -(10**400)}},
        {"features": {"x": float("inf")}},  # (sent as the literal Infinity)
        {"features": {"x": 1.7976931348623157e308, "y": 2**1023}},
        {"predictions": {"p": 10**400}}, {"predictions": {"p": [0.5, 10**400]}},
        {"kind": "feedback", "event_id": "e", "label": 10**400},
        {"kind": "feedback", "event_id": "e", "label": 1.7976931348623157e308},
        *({"timestamp": ts} for ts in (
            "1850-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "1900-01-01T00:00:00Z",
            "2299-12-31T23:59:59.999Z", "2300-01-01T00:00:00Z", "9999-01-01T00:00:00Z",
            "2026-01-01 00:00:00+00", "2026-01-01T09:00:00+09", "2026-01-01T00:00:00.123-05",
            "2026-01-01T00:00:00+0530", "2026-01-01t00:00z", "2026-01-01T00:00:00",
            min_ms // 1000, min_ms // 1000 - 1, max_ms // 1000 - 1, max_ms // 1000,
            max_ms // 1000 - 0.5, 2e10, 2e10 + 1, -2e10, -2e10 - 1,
            min_ms, min_ms - 1, max_ms - 1, max_ms, 99999999999999)),
    ]
    for case in cases:
        event = {"model_id": "m", **case}
        try:
            parse_event(json.dumps(event).encode())
            collector = True
        except EventError:
            collector = False
        assert validator.is_valid(event) == collector, (event, collector)
        if "timestamp" in case:
            feedback = {"kind": "feedback", "model_id": "m", "event_id": "e", "label": 1, **case}
            assert validator.is_valid(feedback) == collector, (feedback, collector)
