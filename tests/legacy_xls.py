"""A legacy Excel 97-2003 workbook (.xls, BIFF8 in a compound file) written byte by byte, for the tests of
reading one: nothing in the test environment writes the format. One worksheet of number cells, with the
sheet's dimensions declared as given (a hostile file declares them absurdly large)."""

from __future__ import annotations

import struct
from pathlib import Path

SECTOR = 512
END, FREE, FAT, NONE = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def _bof(kind: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 0x06))


def workbook_stream(sheet: str, cells: dict[tuple[int, int], float], dimensions: tuple[int, int] | None) -> bytes:
    """The Workbook stream: globals naming one worksheet, then the worksheet's number cells."""
    name = sheet.encode("latin-1")
    globals_length = len(_bof(0x0005)) + 4 + 8 + len(name) + len(_record(0x000A))
    boundsheet = _record(0x0085, struct.pack("<IBBBB", globals_length, 0, 0, len(name), 0) + name)
    rows = max(r for r, _ in cells) + 1
    columns = max(c for _, c in cells) + 1
    last_row, last_column = dimensions or (rows, min(columns, 0xFFFF))
    body = _bof(0x0010) + _record(0x0200, struct.pack("<IIHHH", 0, last_row, 0, last_column, 0))
    for (row, column), value in sorted(cells.items()):
        body += _record(0x0203, struct.pack("<HHHd", row, column, 0, value))
    return _bof(0x0005) + boundsheet + _record(0x000A) + body + _record(0x000A)


def write_xls(
    path: Path, sheet: str, cells: dict[tuple[int, int], float], dimensions: tuple[int, int] | None = None
) -> Path:
    """A compound file (version 3) holding the Workbook stream: sector 0 the FAT, then the stream (at least
    4,096 bytes, so not in the mini stream), then the directory."""
    stream = workbook_stream(sheet, cells, dimensions)
    stream += b"\x00" * (max(4096, -(-len(stream) // SECTOR) * SECTOR) - len(stream))
    count = len(stream) // SECTOR
    directory_sector = 1 + count
    fat = [FAT] + [*range(2, 1 + count), END] + [END]
    fat += [FREE] * (SECTOR // 4 - len(fat))
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
    header += struct.pack(
        "<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, b"", 0, 1, directory_sector, 0, 4096, END, 0, END, 0
    )
    header += struct.pack("<I", 0) + struct.pack("<I", FREE) * 108
    directory = _entry("Root Entry", 5, child=1, start=END, size=0) + _entry("Workbook", 2, start=1, size=len(stream))
    directory += _entry("", 0) * 2
    path.write_bytes(header + struct.pack(f"<{SECTOR // 4}I", *fat) + stream + directory)
    return path


def _entry(name: str, kind: int, child: int = NONE, start: int = 0, size: int = 0) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\x00")
        + struct.pack("<HBBIII", len(encoded), kind, 1, NONE, NONE, child)
        + b"\x00" * 36
        + struct.pack("<IQ", start, size)
    )
