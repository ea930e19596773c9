"""The nesting depth of a JSON text, found before parsing (crimestats._json), for readers and downloads alike."""

from __future__ import annotations

import json

import pytest

from crimestats._json import json_depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b'"x"', 0),
        (b"[[[[]]]]", 4),
        (b'{"a": "[[[", "b": [1, {"c": "\\\\"}]}', 3),  # brackets in strings, an escaped backslash
        (b'["\\"[", [[]]]', 3),  # an escaped quote does not end the string
        (b'{"k\\\\": [ "]" ]}', 2),
        (b"[" * 5000 + b"]" * 5000, 5000),
    ],
)
def test_depth_counts_brackets_outside_strings(text: bytes, depth: int) -> None:
    assert json_depth(text) == depth
    if depth < 100:
        json.loads(text)  # the cases are valid JSON
