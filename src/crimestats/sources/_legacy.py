"""Legacy Excel 97-2003 workbooks (.xls), parsed in a child process.

In the binary format a sheet's cell indexes and the shared string count come before the cells, and
python-calamine allocates from them: a damaged or hostile file can make it ask for terabytes, and a failed Rust
allocation aborts the process. Bounding the format before parsing would mean reading it twice over, so the
parser runs in a child process (``_xls_child.py``) with an address-space limit (:attr:`Limits.parser_bytes`)
and a deadline; whatever kills it is the file's one-line :class:`SourceError`, and this process goes on.
"""

from __future__ import annotations

import pickle
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from crimestats.errors import SourceError

#: Seconds the child may take over a workbook (an official .xls parses in well under a second).
DEADLINE = 60.0
_CHILD = Path(__file__).with_name("_xls_child.py")


def read_xls(path: Path, memory: int) -> tuple[tuple[str, ...], dict[str, list[list[Any]]]]:
    """The sheet names of an .xls workbook and every sheet's rows, as python-calamine reads them."""
    try:
        child = subprocess.run(
            [sys.executable, str(_CHILD), str(path), str(memory)], capture_output=True, timeout=DEADLINE
        )
    except subprocess.TimeoutExpired as exc:
        raise SourceError(f"cannot open as a spreadsheet: the parser took over {DEADLINE:g} s", file=path.name) from exc
    if child.returncode == 0:
        names, sheets = pickle.loads(child.stdout)  # our own child's output, from calamine's values
        return names, sheets
    raise SourceError(f"cannot open as a spreadsheet ({_death(child, memory)})", file=path.name)


def _death(child: subprocess.CompletedProcess[bytes], memory: int) -> str:
    """Why the child gave no workbook: calamine's message, or the signal that ended it."""
    message = " ".join(child.stderr.decode("utf-8", errors="replace").split())
    if child.returncode > 0 and message and "Traceback" not in message:
        return message[:300]
    if child.returncode < 0 or "MemoryError" in message:
        name = signal.Signals(-child.returncode).name if child.returncode < 0 else "MemoryError"
        return (
            f"the parser died ({name}), most likely asking for more than the limit of {memory:,} bytes of memory"
            " (CRIMESTATS_MAX_PARSER_BYTES raises it)"
        )
    return message.rsplit(" File ", 1)[-1][-300:] or f"the parser exited with status {child.returncode}"
