"""The child process that parses a legacy .xls workbook (see :mod:`crimestats.sources._legacy`).

Run as a script, not imported: it loads python-calamine only, so that its address-space limit bounds the
parser, not the rest of crimestats. Arguments: the workbook's path and the bytes of memory allowed. Writes the
sheet names and every sheet's rows to stdout, pickled; a failure is a message on stderr and exit status 1.
"""

from __future__ import annotations

import pickle
import resource
import sys


def main(path: str, memory: int) -> int:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(path)
        sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    except BaseException as exc:  # calamine's errors and panics: reported on stderr, one line
        print(" ".join(str(exc).split())[:300] or type(exc).__name__, file=sys.stderr)
        return 1
    sys.stdout.buffer.write(pickle.dumps((tuple(book.sheet_names), sheets), protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
