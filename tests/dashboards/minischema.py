"""A small JSON-schema validator: the keywords the Compose schema uses, nothing more.

``jsonschema`` is not a project dependency; when it is installed the tests use it instead
(and a test checks both agree). Keywords: type, enum, properties, patternProperties,
additionalProperties, required, items, uniqueItems, minimum, maximum, oneOf, anyOf, allOf,
local ``$ref``, and the ``duration`` format.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TYPES = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
}
_DURATION = re.compile(r"^((\d+(\.\d+)?)(us|ms|s|m|h))+$")


def _is(value: Any, t: str) -> bool:
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[t])


class Validator:
    """``Validator(schema).errors(doc)`` → a list of ``path: message`` strings."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.root = schema

    def _ref(self, ref: str) -> dict[str, Any]:
        node: Any = self.root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)

    def errors(self, value: Any, schema: dict[str, Any] | None = None,
               path: str = "$") -> list[str]:
        s = self.root if schema is None else schema
        if "$ref" in s:
            return self.errors(value, self._ref(s["$ref"]), path)
        out: list[str] = []
        if "type" in s:
            types = s["type"] if isinstance(s["type"], list) else [s["type"]]
            if not any(_is(value, t) for t in types):
                return [f"{path}: {json.dumps(value)[:60]} is not of type {types}"]
        if "enum" in s and value not in s["enum"]:
            out.append(f"{path}: {value!r} not one of {s['enum']}")
        if s.get("format") == "duration" and isinstance(value, str) and not _DURATION.match(value):
            out.append(f"{path}: {value!r} is not a duration")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in s and value < s["minimum"]:
                out.append(f"{path}: {value} < {s['minimum']}")
            if "maximum" in s and value > s["maximum"]:
                out.append(f"{path}: {value} > {s['maximum']}")
        if isinstance(value, dict):
            out += self._object(value, s, path)
        if isinstance(value, list):
            if "items" in s:
                for i, item in enumerate(value):
                    out += self.errors(item, s["items"], f"{path}[{i}]")
            if s.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) < len(
                    value):
                out.append(f"{path}: items are not unique")
        for sub in s.get("allOf", []):
            out += self.errors(value, sub, path)
        if "anyOf" in s and all(self.errors(value, sub, path) for sub in s["anyOf"]):
            out.append(f"{path}: matches none of anyOf")
        if "oneOf" in s:
            matched = sum(not self.errors(value, sub, path) for sub in s["oneOf"])
            if matched != 1:
                out.append(f"{path}: matches {matched} of oneOf, expected 1")
        return out

    def _object(self, value: dict[str, Any], s: dict[str, Any], path: str) -> list[str]:
        out = [f"{path}: missing {k!r}" for k in s.get("required", []) if k not in value]
        props, patterns = s.get("properties", {}), s.get("patternProperties", {})
        for key, item in value.items():
            seen = False
            if key in props:
                seen = True
                out += self.errors(item, props[key], f"{path}.{key}")
            for pattern, sub in patterns.items():
                if re.search(pattern, key):
                    seen = True
                    out += self.errors(item, sub, f"{path}.{key}")
            extra = s.get("additionalProperties", True)
            if not seen and extra is False:
                out.append(f"{path}: unexpected property {key!r}")
            elif not seen and isinstance(extra, dict):
                out += self.errors(item, extra, f"{path}.{key}")
        return out
