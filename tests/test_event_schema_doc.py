from __future__ import annotations

import json
from pathlib import Path

from driftscope.events import export_json_schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "event.schema.json"


def test_committed_json_schema_matches_the_code() -> None:
    """Regenerate with: python -c 'from driftscope.events import export_json_schema; ...'"""
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
