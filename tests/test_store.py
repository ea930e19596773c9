"""The store: provenance for every figure, one transaction per file, idempotent ingest."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from crimestats.sources import read_file
from crimestats.store import Store, default_path

from conftest import table_counts

P1_SEP_2019 = "ons-pfa-tables/policeforceareatablesyearendingseptember2019.xlsx"


def test_provenance_is_recorded_for_every_figure(store: Store, data_dir: Path) -> None:
    path = data_dir / P1_SEP_2019
    result = store.ingest_file(path)
    assert (result.status, result.source, result.vintage) == ("ingested", "ons-pfa", "2019-09")
    [stored] = store.files()
    assert stored["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored["file_name"] == path.name and stored["ingested_at"] is not None
    missing = store.con.execute(
        "SELECT count(*) FROM figures WHERE file_id IS NULL OR sheet IS NULL OR source_row IS NULL"
        " OR source_column IS NULL"
    ).fetchone()
    assert missing == (0,)
    # Wiltshire's stalking and harassment count, traced back to its cell.
    sheet, row, column, value = store.con.execute(
        "SELECT sheet, source_row, source_column, value FROM figures WHERE area_code = 'E23000038'"
        " AND offence = 'stalking-and-harassment' AND measure = 'count'"
    ).fetchone()  # type: ignore[misc]
    assert (sheet, column) == ("Table P1", "I")
    book = openpyxl.load_workbook(path, read_only=True)
    assert book["Table P1"][f"{column}{row}"].value == value


def test_same_file_twice_changes_nothing(store: Store, data_dir: Path) -> None:
    path = data_dir / P1_SEP_2019
    store.ingest_file(path)
    before = table_counts(store)
    assert store.ingest_file(path).status == "unchanged"
    assert table_counts(store) == before


def test_failure_inside_the_transaction_leaves_the_store_as_it_was(store: Store, data_dir: Path) -> None:
    """A batch whose last table cannot be inserted: the file row and the figures already inserted roll back."""
    store.ingest_file(data_dir / P1_SEP_2019)
    before = table_counts(store)
    batch = read_file(data_dir / "ons-pfa-tables" / "pfatablesdec19.xlsx")
    broken = pa.table({"not": ["a lookup"]})  # wrong columns for the lookup table: DuckDB rejects the insert
    batch = type(batch)(batch.source, batch.vintage, batch.revision, batch.figures, batch.populations, broken)
    with pytest.raises(Exception, match="(?i)column|insert|binder"):
        store._write(data_dir / "pfatablesdec19.xlsx", "deadbeef", batch)
    assert table_counts(store) == before


def test_sources_and_vintages_of_the_same_period_are_all_kept(store: Store, data_dir: Path) -> None:
    store.ingest([data_dir / "ons-pfa-tables" / "policeforceareatablesyearendingmarch2018v2.xlsx"])
    store.ingest([data_dir / "home-office"])
    rows = store.con.execute(
        "SELECT f.source, count(*) FROM figures g JOIN files f USING (file_id)"
        " WHERE g.area_code = 'E23000038' AND g.measure = 'count' GROUP BY f.source ORDER BY f.source"
    ).fetchall()
    assert [r[0] for r in rows] == ["home-office", "ons-pfa"]


def test_store_location_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRIMESTATS_DB", str(tmp_path / "elsewhere.duckdb"))
    assert default_path() == tmp_path / "elsewhere.duckdb"
    monkeypatch.delenv("CRIMESTATS_DB")
    assert default_path().name == "crimestats.duckdb"


def test_the_latest_lookup_is_used_whatever_the_ingest_order(store: Store, data_dir: Path, tmp_path: Path) -> None:
    """An older lookup ingested after the current one does not move local authorities between force areas."""
    from crimestats.analytics.figures import force_populations

    current = (
        data_dir / "population" / "Local_Authority_District_to_CSPs_to_Police_Force_Areas_(December__2023)_Lookup_.csv"
    )
    lines = current.read_text(encoding="utf-8-sig").splitlines()
    hartlepool = next(line for line in lines if line.startswith("E06000001,"))
    assert ",E23000013,Cleveland," in hartlepool
    older = [lines[0].replace("23", "21"), *(line for line in lines[1:] if line != hartlepool)]
    older.append(hartlepool.replace(",E23000013,Cleveland,", ",E23000008,Durham,"))
    (tmp_path / "lookup2021.csv").write_text("\n".join(older) + "\n", encoding="utf-8")

    store.ingest([data_dir / "population" / "LAD23_Mid_Year_pop_2011_to_2023.xlsx", current])
    expected = force_populations(store.backend).to_pandas().sort_values(["area_code", "year"], ignore_index=True)
    assert store.ingest([tmp_path / "lookup2021.csv"]).results[0].vintage == "2021"
    after = force_populations(store.backend).to_pandas().sort_values(["area_code", "year"], ignore_index=True)
    assert after.equals(expected)
    cleveland_2023 = after.query("area_code == 'E23000013' and year == 2023").population.item()
    mye = read_file(data_dir / "population" / "LAD23_Mid_Year_pop_2011_to_2023.xlsx").populations.to_pandas()
    cleveland_las = {line.split(",")[0] for line in lines[1:] if ",E23000013,Cleveland," in line}
    in_cleveland = mye.area_code.isin(cleveland_las) & (mye.year == 2023) & (mye.denominator == "residents")
    published = mye[in_cleveland].value.sum()
    assert cleveland_2023 == published


def test_re_issued_ons_tables_are_recognised_as_revisions(data_dir: Path) -> None:
    """The publisher's re-issues ("corrected", "v2" in the file name) are revision 1, read from the workbook itself."""
    folder = data_dir / "ons-pfa-tables"
    revisions = {path.name: read_file(path).revision for path in sorted(folder.glob("*.xlsx"))}
    reissued = {name for name in revisions if "corrected" in name or "v2" in name}
    assert len(revisions) == 8 and len(reissued) == 3
    assert revisions == {name: int(name in reissued) for name in revisions}
