"""Column-at-a-time versions of the cell rules in :mod:`crimestats.sources._base`, on Arrow arrays.

Each function gives what the cell-by-cell rule gives for every cell, or flags the cell: a flagged cell is
then handed to the cell-by-cell rule, which either raises the error that names it or gives its value. So
the vectorised readers and the cell-by-cell rules cannot disagree on a value, and every error message
stays the one the cell-by-cell rule writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

#: Every character ``str.split()`` and ``str.strip()`` treat as whitespace (Unicode's and the four separators
#: U+001C-U+001F), so that Arrow collapses and strips exactly as Python does (a test checks the list).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_RUNS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]+"
#: ``_base._NUMBER`` for ASCII digits (Python's ``\d`` also takes other scripts' digits: those cells are flagged).
#: The largest magnitude a figure may have: beyond any count, rate or population ever published, and below
#: 2**53, where whole numbers stop being exact in a float. A cell past it is flagged, and is an error.
LARGEST_NUMBER = 1e15
NUMBER = r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$|^-?[0-9]+(\.[0-9]+)?$"


def cell_text(value: Any) -> str:
    """A cell as ``Sheet.text`` sees it before collapsing whitespace: ``80.0`` → ``'80'``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def text_array(values: Sequence[Any]) -> pa.Array:
    """Cells of one column (str, numbers, dates …) as an Arrow string array of :func:`cell_text`."""
    if set(map(type, values)) <= {str}:
        return pa.array(values, pa.string())
    return pa.array([value if type(value) is str else cell_text(value) for value in values], pa.string())


def collapse(texts: pa.Array) -> pa.Array:
    """``" ".join(text.split())`` of every text."""
    return pc.replace_substring_regex(strip(texts), _RUNS, " ")


def strip(texts: pa.Array) -> pa.Array:
    """``text.strip()`` of every text."""
    return pc.utf8_trim(texts, WHITESPACE)


def map_distinct(texts: pa.Array, function: Callable[[str], T]) -> tuple[list[T], np.ndarray]:
    """``function`` of each distinct text, called once per distinct text, and for every text the index of its
    result: a join of the texts with a mapping table built from the reference data."""
    distinct = pc.unique(texts)
    results = [function(text) for text in distinct.to_pylist()]
    return results, pc.index_in(texts, value_set=distinct).to_numpy(zero_copy_only=False)


def counts(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Count cells (as :func:`cell_text`) → (value, flagged) with ``parse_count``'s value for unflagged cells.

    Unflagged: padding, thousands separators and a whole number ('"1,234 "'). Flagged: anything else, which
    ``parse_count`` refuses (text, empty, a fraction, not finite) or, rarely, reads (digits of other scripts).
    """
    stripped = strip(texts)
    number = pc.match_substring_regex(stripped, NUMBER).to_numpy(zero_copy_only=False)
    cleaned = pc.replace_substring(pc.if_else(pa.array(number), stripped, "0"), ",", "")
    try:
        values = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a number Arrow cannot parse: Python reads them all
        values = np.array([float(text) for text in cleaned.to_pylist()], dtype=np.float64)
    whole = (np.abs(values) < LARGEST_NUMBER) & (values == np.trunc(values))
    return values + 0.0, ~(number & whole)  # + 0.0: parse_count gives float(int(-0.0)), which is 0.0


def numbers(texts: pa.Array, symbols: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Number cells (as :func:`cell_text`) → (value, symbol, flagged) with ``parse_number``'s value and symbol
    for unflagged cells: NaN value and the symbol for a symbol, a value and None otherwise.

    Flagged: anything else, for ``parse_number`` to refuse or read; also '0' (a float cell -0.0 reads as -0.0)
    and a symbol that is also a number (a number cell would read as the number).
    """
    stripped = strip(texts)
    number = pc.match_substring_regex(stripped, NUMBER).to_numpy(zero_copy_only=False)
    symbol = pc.is_in(stripped, value_set=pa.array(list(symbols), pa.string())).to_numpy(zero_copy_only=False)
    cleaned = pc.replace_substring(pc.if_else(pa.array(number & ~symbol), stripped, "nan"), ",", "")
    try:
        values = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = np.array([float(text) for text in cleaned.to_pylist()], dtype=np.float64)
    zero = pc.equal(stripped, "0").to_numpy(zero_copy_only=False)
    flagged = ~(number | symbol) | (number & symbol) | zero | (number & ~(np.abs(values) < LARGEST_NUMBER))
    found = np.array(stripped.to_pylist(), dtype=object)
    found[~symbol] = None
    return values, found, flagged
