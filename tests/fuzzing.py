"""Mutated official files, for the fuzz test (tests/test_fuzz.py) and the long run (benchmarks/fuzz_readers.py).

A case is one real file from the data folder changed once, the way a broken download or a hostile sender
changes it: bytes flipped, inserted, deleted or cut off; for an .xlsx, one edit of the XML inside the zip (a
cell's reference or value, a deleted cell, a repeated row, a shared string); for a CSV, one edit of a cell or
row; for GeoJSON, one edit of a feature. Every mutation draws from a :class:`random.Random`, so a case is
reproduced from its seed (and hypothesis can drive it through ``st.randoms()``).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import random
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crimestats.sources._base import column_letter
from crimestats.sources._containers import column_number

#: The real files a case starts from (relative to the data folder), and the one good file a fuzzed store holds.
SEEDS = {
    "home-office.csv": Path("home-office/prc-pfa-mar2013-onwards-tables201718.csv"),
    "ons-csp.csv": Path("ons-csp-tables/policeforceareatablesyejune25final.csv"),
    "ons-pfa.xlsx": Path("ons-pfa-tables/policeforceareatablesyearendingjune2019.xlsx"),
    "population.xlsx": Path("population/LAD23_Mid_Year_pop_2011_to_2023.xlsx"),
    "boundaries.geojson": Path("boundaries/force_boundaries_ugc.geojson"),
}
GOOD_FILE = Path("population/Local_Authority_District_to_CSPs_to_Police_Force_Areas_(December__2023)_Lookup_.csv")
HOME_OFFICE_LINES = 201  # the header and 200 data rows: the real layout, small enough to read in milliseconds

#: Cell texts that have broken readers: blanks, ONS symbols, signs, overflow, NaN, thousands separators, a
#: field over the CSV limit, codes and headings in the wrong place.
AWKWARD = (
    "", " ", "..", "x", "-", "0", "-1", "-0", "0.5", "1e309", "-1e309", "NaN", "inf", "9" * 400, "1,234", "１２",
    "\x00", "\ufeff", '"', "=1+1", "E23000001", "E06000001", "Total recorded crime", "Police Force Area code",
    "a" * 140_000,
)  # fmt: skip
AWKWARD_REFS = ("ZZZZZ99999999", "XFD1048576", "A0", "A", "1", "", "a1", "AAAA1", "B2", "A1048577", "A-1")


def seed_bytes(data_dir: Path) -> dict[str, bytes]:
    """Every seed's content, the Home Office table cut to its first rows."""
    seeds = {name: (data_dir / path).read_bytes() for name, path in SEEDS.items()}
    seeds["home-office.csv"] = b"".join(seeds["home-office.csv"].splitlines(keepends=True)[:HOME_OFFICE_LINES])
    return seeds


def mutate(rng: random.Random, name: str, data: bytes) -> tuple[str, bytes]:
    """One mutation of the file ``name`` holding ``data``: (what was done, the new content)."""
    suffix = Path(name).suffix
    structured = {".xlsx": _mutate_xlsx, ".csv": _mutate_csv, ".geojson": _mutate_geojson}[suffix]
    if rng.random() < 0.3:
        kind, changed = _mutate_bytes(rng, data)
        return f"bytes.{kind}", changed
    return structured(rng, data)


# --- bytes -------------------------------------------------------------------------------------------------


def _flip(rng: random.Random, data: bytes) -> bytes:
    changed = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        changed[rng.randrange(len(changed))] ^= 1 << rng.randrange(8)
    return bytes(changed)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))]


def _insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    inserted = rng.choice([b"\x00", b'"', b"\n", b",", b"<", b"\xff\xfe", rng.randbytes(rng.randint(1, 64))])
    return data[:at] + inserted + data[at:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 256) :]


def _repeat(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    chunk = data[at : at + rng.randint(1, 4096)]
    return data[:at] + chunk * rng.randint(2, 16) + data[at:]


BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip": _flip,
    "truncate": _truncate,
    "insert": _insert,
    "delete": _delete,
    "repeat": _repeat,
}


def _mutate_bytes(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    kind = rng.choice(sorted(BYTE_MUTATIONS))
    return kind, BYTE_MUTATIONS[kind](rng, data) if data else data


# --- .xlsx: the XML inside the zip -------------------------------------------------------------------------


def _replace_match(
    rng: random.Random, xml: bytes, pattern: bytes, replace: Callable[[re.Match[bytes]], bytes]
) -> bytes:
    matches = list(re.finditer(pattern, xml, re.DOTALL))
    if not matches:
        return xml
    match = rng.choice(matches)
    return xml[: match.start()] + replace(match) + xml[match.end() :]


def _awkward(rng: random.Random) -> bytes:
    return rng.choice(AWKWARD).encode()


def _xml_text(rng: random.Random) -> bytes:
    return rng.choice(AWKWARD).replace("&", "&amp;").replace("<", "&lt;").replace("\x00", "").encode()


XML_EDITS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "cell-ref": lambda rng, xml: _replace_match(
        rng, xml, rb'<c r="[^"]*"', lambda m: b'<c r="' + rng.choice(AWKWARD_REFS).encode() + b'"'
    ),
    "row-number": lambda rng, xml: _replace_match(
        rng, xml, rb'<row r="[^"]*"', lambda m: b'<row r="' + str(rng.choice([0, -1, 1, 10**9, 2**40])).encode() + b'"'
    ),
    "value": lambda rng, xml: _replace_match(rng, xml, rb"<v>[^<]*</v>", lambda m: b"<v>" + _xml_text(rng) + b"</v>"),
    "shared-string-index": lambda rng, xml: _replace_match(
        rng,
        xml,
        rb't="s"[^>]*><v>[^<]*</v>',
        lambda m: b't="s"><v>' + str(rng.choice([-1, 99999, 2**63])).encode() + b"</v>",
    ),
    "delete-cell": lambda rng, xml: _replace_match(rng, xml, rb"<c [^>]*?(?:/>|>.*?</c>)", lambda m: b""),
    "repeat-row": lambda rng, xml: _replace_match(rng, xml, rb"<row [^>]*>.*?</row>", lambda m: m.group(0) * 2),
    "dimension": lambda rng, xml: _replace_match(
        rng,
        xml,
        rb'<dimension ref="[^"]*"',
        lambda m: b'<dimension ref="A1:' + rng.choice(AWKWARD_REFS).encode() + b'"',
    ),
    "text": lambda rng, xml: _replace_match(
        rng, xml, rb"<t[^>]*>[^<]*</t>", lambda m: b"<t>" + _xml_text(rng) + b"</t>"
    ),
    "bytes": lambda rng, xml: _mutate_bytes(rng, xml)[1],
}


def _mutate_xlsx(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    members = dict(_unzipped(data))
    xml = sorted(name for name in members if name.endswith(".xml"))
    sheets = [name for name in xml if name.startswith("xl/worksheets/")] or xml
    if rng.random() < 0.1:
        del members[rng.choice(sorted(members))]
        return "xlsx.drop-member", _zipped(data, members)
    member = rng.choice(sheets) if rng.random() < 0.8 else rng.choice(xml)
    edit = rng.choice(sorted(XML_EDITS))
    members[member] = XML_EDITS[edit](rng, members[member])
    return f"xlsx.{edit}", _zipped(data, members)


@functools.cache
def _unzipped(data: bytes) -> tuple[tuple[str, bytes], ...]:
    """A seed workbook's members, inflated once (every case of the seed starts from them)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return tuple((info.filename, source.read(info)) for info in source.infolist())


@functools.cache
def _deflated(data: bytes) -> dict[str, tuple[int, bytes]]:
    """A seed workbook's members as stored in its zip: (CRC, deflated bytes), so an unchanged member is copied,
    not compressed again."""
    return {name: (zlib.crc32(content), _deflate(content)) for name, content in _unzipped(data)}


def _deflate(content: bytes) -> bytes:
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(content) + compressor.flush()


def _zipped(seed: bytes, members: dict[str, bytes]) -> bytes:
    """The members as a zip, deflated as Excel writes them; a member unchanged from the seed is copied whole."""
    seed_members, stored = dict(_unzipped(seed)), _deflated(seed)
    out, directory = io.BytesIO(), io.BytesIO()
    for name, content in members.items():
        unchanged = seed_members.get(name) is content
        crc, deflated = stored[name] if unchanged else (zlib.crc32(content), _deflate(content))
        encoded, offset = name.encode(), out.tell()
        fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, len(deflated), len(content))
        out.write(b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded + deflated)
        directory.write(b"PK\x01\x02" + struct.pack("<H", 20) + fields)
        directory.write(struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start, size = out.tell(), directory.tell()
    end = struct.pack("<HHHHIIH", 0, 0, len(members), len(members), size, start, 0)
    return out.getvalue() + directory.getvalue() + b"PK\x05\x06" + end


# --- CSV: a cell or a row ----------------------------------------------------------------------------------


def _cell_position(rng: random.Random, rows: list[list[str]]) -> tuple[int, int]:
    """A cell, half the time in the first rows (titles and header), where a change matters most."""
    row = rng.randrange(min(len(rows), 16)) if rng.random() < 0.5 else rng.randrange(len(rows))
    return row, rng.randrange(max(len(rows[row]), 1))


def _set_cell(rng: random.Random, rows: list[list[str]]) -> None:
    row, column = _cell_position(rng, rows)
    if rows[row]:
        rows[row][column] = rng.choice(AWKWARD)


def _delete_cell(rng: random.Random, rows: list[list[str]]) -> None:
    row, column = _cell_position(rng, rows)
    del rows[row][column : column + 1]


def _insert_cell(rng: random.Random, rows: list[list[str]]) -> None:
    row, column = _cell_position(rng, rows)
    rows[row].insert(column, rng.choice(AWKWARD))


def _repeat_row(rng: random.Random, rows: list[list[str]]) -> None:
    row, _ = _cell_position(rng, rows)
    rows.insert(row, list(rows[row]))


def _delete_row(rng: random.Random, rows: list[list[str]]) -> None:
    row, _ = _cell_position(rng, rows)
    del rows[row]


CSV_EDITS: dict[str, Callable[[random.Random, list[list[str]]], None]] = {
    "set-cell": _set_cell,
    "delete-cell": _delete_cell,
    "insert-cell": _insert_cell,
    "repeat-row": _repeat_row,
    "delete-row": _delete_row,
}


def _mutate_csv(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"))))
    edit = rng.choice(sorted(CSV_EDITS))
    CSV_EDITS[edit](rng, rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return f"csv.{edit}", out.getvalue().encode()


# --- GeoJSON: one feature ----------------------------------------------------------------------------------

NEST = "nested arrays"
AWKWARD_JSON: tuple[object, ...] = (None, 0, -1, 1e308, float("nan"), float("inf"), "", "x", [], {}, [[]], True)


@functools.cache
def _geojson(data: bytes) -> dict[str, Any]:
    """A seed GeoJSON file parsed once; a case copies only the feature it edits."""
    return json.loads(data)  # type: ignore[no-any-return]


def _feature_edit(rng: random.Random, features: list[dict[str, object]], at: int) -> str:
    feature = features[at]
    edit = rng.choice(["properties", "property", "geometry", "coordinate", "duplicate", "drop-key", "nest"])
    properties = feature.get("properties")
    if edit == "properties":
        feature["properties"] = rng.choice(AWKWARD_JSON)
    elif edit == "property" and isinstance(properties, dict) and properties:
        properties[rng.choice(sorted(properties))] = rng.choice([*AWKWARD_JSON, *AWKWARD[:24]])
    elif edit == "geometry":
        feature["geometry"] = rng.choice([*AWKWARD_JSON, {"type": "Point", "coordinates": [0, 0]}])
    elif edit == "coordinate":
        feature["geometry"] = {"type": "Polygon", "coordinates": [[[rng.choice(AWKWARD_JSON), 51.0]] * 4]}
    elif edit == "duplicate":
        features.append(json.loads(json.dumps(feature)))
    elif edit == "drop-key" and feature:
        del feature[rng.choice(sorted(feature))]
    elif edit == "nest":
        feature["geometry"] = NEST  # written out by _mutate_geojson: json.dumps itself cannot nest so deep
    return edit


def _mutate_geojson(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    seed = _geojson(data)
    features = list(seed["features"])
    at = rng.randrange(len(features))
    features[at] = json.loads(json.dumps(features[at]))  # the one feature an edit may change, copied
    edit = _feature_edit(rng, features, at)
    collection = {**seed, "features": features}
    depth = rng.choice([10, 1000, 10_000])
    text = json.dumps(collection).replace(json.dumps(NEST), "[" * depth + "null" + "]" * depth)
    return f"geojson.{edit}", text.encode()


# --- a moved cell reference, for the oracle that compares what is stored with the seed's figures -----------------

_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*?(?<!/)>')  # a cell holding a value


def move_reference(rng: random.Random, data: bytes, member: str) -> tuple[bytes, str, str]:
    """The workbook with one cell of the worksheet ``member`` given another cell's reference: a neighbour's
    (where the number would land in another offence's or area's cell), two columns on, or an awkward one.
    Returns (content, the cell's reference, the reference it was given)."""
    members = dict(_unzipped(data))
    cells = list(_CELL.finditer(members[member]))
    cell = rng.choice(cells)
    letters, row = cell.group(1).decode(), int(cell.group(2))
    column = column_number(cell.group(1)) - 1
    near = [(column + 1, row), (column - 1, row), (column, row + 1), (column, row - 1), (column + 2, row)]
    moved = [f"{column_letter(c)}{r}" for c, r in near if c >= 0 and r >= 1]
    target = rng.choice([*moved, *moved, *AWKWARD_REFS])
    xml = members[member]
    members[member] = xml[: cell.start()] + b'<c r="' + target.encode() + b'"' + xml[cell.end(2) + 1 :]
    return _zipped(data, members), f"{letters}{row}", target
