from __future__ import annotations

import json
from pathlib import Path

from driftscope.events import export_json_schema

DOC = Path(__file__).resolve().parents[1] / "docs" / "event.schema.json"


def test_committed_json_schema_matches_the_code() -> None:
    """Regenerate with: python -c 'from driftscope.events import export_json_schema; ...'"""
    assert json.loads(DOC.read_text()) == json.loads(json.dumps(export_json_schema()))
