"""How deeply a JSON text nests, found before it is parsed (Python's parser recurses once per level, so a
document nested thousands deep would otherwise end in a RecursionError)."""

from __future__ import annotations

import re

_STRING = re.compile(rb'"[^"]*"')
_KEPT = frozenset(b'[]{}"')
_OTHERS = bytes(sorted(set(range(256)) - _KEPT))


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (brackets inside strings do not count)."""
    import numpy as np

    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")  # no quote is escaped any more
    brackets = _STRING.sub(b"", unescaped.translate(None, _OTHERS))  # brackets and quotes, then strings dropped
    steps = np.frombuffer(brackets, dtype=np.uint8)
    depth = np.cumsum(np.where((steps == ord("[")) | (steps == ord("{")), 1, -1))
    return int(depth.max(initial=0))
