"""Police force area boundaries (GeoJSON) and land areas (MYE5): read from the official files, checked against
an independent reading of the same files, and refused with a one-line error when damaged."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from crimestats import reference
from crimestats.analytics.figures import force_land_areas
from crimestats.errors import SourceError
from crimestats.sources import read_file
from crimestats.store import Store

from conftest import table_counts

BOUNDARIES = Path("boundaries/force_boundaries_ugc.geojson")
MYE = Path("population/LAD23_Mid_Year_pop_2011_to_2023.xlsx")
LOOKUP = Path("population/Local_Authority_District_to_CSPs_to_Police_Force_Areas_(December__2023)_Lookup_.csv")


def test_boundaries_are_read_for_all_43_forces(data_dir: Path) -> None:
    batch = read_file(data_dir / BOUNDARIES)
    assert (batch.source, batch.vintage) == ("ons-boundaries", "2016")
    rows = batch.boundaries.to_pylist()
    assert sorted(r["area_code"] for r in rows) == sorted(f.code for f in reference.forces())
    raw = json.loads((data_dir / BOUNDARIES).read_text(encoding="utf-8"))
    wiltshire = next(f for f in raw["features"] if f["properties"]["PFA16NM"] == "Wiltshire")
    stored = next(r for r in rows if r["area_name"] == "Wiltshire")
    assert json.loads(stored["geometry"]) == wiltshire["geometry"]


def test_land_areas_sum_local_authorities_through_the_lookup(loaded_store: Store, data_dir: Path) -> None:
    """Independent reading: MYE5 'Area (sq km)' with openpyxl, summed over the lookup's LADs for each force."""
    book = openpyxl.load_workbook(data_dir / MYE, read_only=True)
    rows = list(book["MYE5"].iter_rows(values_only=True))
    book.close()  # left open, the file is closed by the garbage collector, and its warning fails another test
    header = next(i for i, r in enumerate(rows) if r[0] == "Code")
    column = list(rows[header]).index("Area (sq km)")
    area = {r[0]: r[column] for r in rows[header + 1 :] if r[0]}
    with (data_dir / LOOKUP).open(encoding="utf-8-sig") as handle:
        lookup = {(r["LAD23CD"], r["PFA23CD"]) for r in csv.DictReader(handle)}
    expected: dict[str, float] = {}
    for lad, pfa in lookup:
        expected[pfa] = expected.get(pfa, 0.0) + area[lad]
    got = {r["area_code"]: r["area_sq_km"] for r in force_land_areas(loaded_store.backend).to_pyarrow().to_pylist()}
    assert set(got) == set(expected) and len(got) == 43
    for code, value in expected.items():
        assert got[code] == pytest.approx(value, rel=1e-12), code
    assert got[reference.area("City of London").code] < 3  # the Square Mile: 2.9 sq km


def _write(tmp_path: Path, collection: Any) -> Path:
    path = tmp_path / "boundaries.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c["features"][2]["properties"].pop("PFA16CD"),
            "boundaries.geojson, row 3: feature 3 has no PFAyyCD property",
        ),
        (
            lambda c: c["features"][4]["properties"].update(PFA16CD="E23999999"),
            "boundaries.geojson, row 5, column PFA16CD: 'E23999999' is not a police force area code",
        ),
        (
            lambda c: c["features"][0].update(geometry={"type": "Point", "coordinates": [0, 51]}),
            "boundaries.geojson, row 1, column geometry: geometry is not a Polygon or MultiPolygon",
        ),
        (lambda c: c.update(items=c.pop("features")), "boundaries.geojson: has no 'features' list"),
    ],
)
def test_damaged_boundaries_are_refused_and_the_store_is_unchanged(
    data_dir: Path, tmp_path: Path, store: Store, change: Any, message: str
) -> None:
    collection = json.loads((data_dir / BOUNDARIES).read_text(encoding="utf-8"))
    change(collection)
    path = _write(tmp_path, collection)
    before = table_counts(store)
    with pytest.raises(SourceError) as raised:
        store.ingest_file(path)
    assert str(raised.value) == message
    [outcome] = store.ingest([path]).results  # reported, not raised, so the other files named still go in
    assert (outcome.status, outcome.error) == ("failed", message)
    assert table_counts(store) == before


def test_truncated_geojson_is_refused(data_dir: Path, tmp_path: Path, store: Store) -> None:
    data = (data_dir / BOUNDARIES).read_bytes()
    path = tmp_path / "cut.geojson"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError, match=r"^cut\.geojson: is not valid GeoJSON"):
        store.ingest_file(path)
    assert table_counts(store)["boundaries"] == 0
