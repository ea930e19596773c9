"""Street-level data from data.police.uk: the real City of London files, archives built from them, outcomes and
stop-and-search files in the documented layouts, and the reconciliation with ONS Table C2.

The street files are ingested once for the module into a small store of their own (with Table C2 and the
population files for rates), not into the session's store. Expected values are counted here with Python's csv
module from the same official files.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import crimestats
from crimestats import reference
from crimestats.analytics import street
from crimestats.cli import app
from crimestats.downloads.catalogue import covering_archives, load_catalogue
from crimestats.errors import DownloadError, SourceError
from crimestats.reports.build import force_report
from crimestats.sources.police_uk import Selection
from crimestats.store import Store

from mirror import Fault, Mirror

runner = CliRunner()
ASB = "Anti-social behaviour"
OUTCOMES_HEADER = [
    *("Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location", "LSOA code"),
    *("LSOA name", "Outcome type"),
]
STOPS_HEADER = [
    *("Type", "Date", "Part of a policing operation", "Policing operation", "Latitude", "Longitude", "Gender"),
    *("Age range", "Self-defined ethnicity", "Officer-defined ethnicity", "Legislation", "Object of search"),
    *("Outcome", "Outcome linked to object of search", "Removal of more than just outer clothing"),
]
STOPS = [
    ["Person search", "2025-06-03T10:15:00+00:00", "False", "", "51.5151", "-0.0912", "Male", "18-24"]
    + ["White - English/Welsh/Scottish/Northern Irish/British", "White", "Misuse of Drugs Act 1971 (section 23)"]
    + ["Controlled drugs", "A no further action disposal", "False", "False"],
    ["Person search", "2025-06-09T21:40:00+00:00", "False", "", "51.5130", "-0.0890", "Male", "over 34"]
    + ["Asian/Asian British - Any other Asian background", "Asian", "Misuse of Drugs Act 1971 (section 23)"]
    + ["Controlled drugs", "Community resolution", "True", "False"],
    ["Person and Vehicle search", "2025-06-21T02:05:00+00:00", "", "", "", "", "Female", "25-34"]
    + ["Other ethnic group - Not stated", "", "Police and Criminal Evidence Act 1984 (section 1)"]
    + ["Stolen goods", "Arrest", "True", ""],
]


def street_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "police-uk" / "street").glob("*-city-of-london-street.csv"))


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def street_rows(data_dir: Path) -> list[dict[str, str]]:
    """Every row of the 24 City of London files, read with the csv module."""
    return [row for path in street_files(data_dir) for row in read_rows(path)]


@pytest.fixture(scope="module")
def street_store(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the street files, Table C2 and the population files (for rates), ingested once."""
    path = tmp_path_factory.mktemp("street") / "street.duckdb"
    with Store(path) as store:
        folders = [data_dir / "police-uk" / "street", data_dir / "ons-csp-tables", data_dir / "population"]
        report = store.ingest(folders)
        assert not report.with_status("failed")
    return path


@pytest.fixture
def stats(street_store: Path) -> Iterator[crimestats.Crimestats]:
    with crimestats.open(street_store) as opened:
        yield opened


def run(path: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(path), *args])
    return result.exit_code, result.stdout, result.stderr


def counted(rows: list[dict[str, str]], key: str, year: int) -> dict[str, int]:
    return dict(collections.Counter(row[key] for row in rows if row["Month"].startswith(str(year))))


@pytest.mark.parametrize("year", [2024, 2025])
def test_counts_by_crime_type_and_month_equal_a_count_of_the_files(
    stats: crimestats.Crimestats, street_rows: list[dict[str, str]], year: int
) -> None:
    by_type = stats.street_counts("crime-type", "City of London", f"{year}-01", f"{year}-12").rows.to_pylist()
    assert {row["crime_type"]: row["count"] for row in by_type} == counted(street_rows, "Crime type", year)
    by_month = stats.street_counts("month", "City of London", f"{year}-01", f"{year}-12").rows.to_pylist()
    assert {row["month"]: row["count"] for row in by_month} == counted(street_rows, "Month", year)


def test_anti_social_behaviour_is_counted_and_kept_out_of_crime_totals(
    stats: crimestats.Crimestats, street_rows: list[dict[str, str]]
) -> None:
    asb = [row for row in street_rows if row["Crime type"] == ASB]
    assert asb and all(row["Crime ID"] == "" for row in asb)  # the documented layout: ASB has no Crime ID
    by_type = {row["crime_type"]: row["count"] for row in stats.street_counts("crime-type").rows.to_pylist()}
    assert by_type[ASB] == len(asb)
    year = [row for row in street_rows if "2024-07" <= row["Month"] <= "2025-06"]
    [total] = stats.street_totals("2025-06").rows.to_pylist()
    assert total["count"] == sum(row["Crime type"] != ASB for row in year)
    assert total["anti_social_behaviour"] == sum(row["Crime type"] == ASB for row in year)
    assert total["months"] == 12 and total["rate_per_1000"] == pytest.approx(
        total["count"] / total["population"] * 1000
    )


def test_coverage_has_the_24_months_with_their_rows(street_store: Path, data_dir: Path) -> None:
    code, out, _ = run(street_store, "street", "coverage", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [set(row) for row in rows] == [{"force", "month", "street", "outcomes", "stop_and_search"}] * 24
    expected = {path.name[:7]: len(read_rows(path)) for path in street_files(data_dir)}
    assert {row["month"]: row["street"] for row in rows} == expected
    assert all(row["outcomes"] is None and row["stop_and_search"] is None for row in rows)


def test_counts_json_is_an_array_of_the_groupings_asked_for(street_store: Path) -> None:
    args = ("street", "counts", "--by", "crime-type", "--by", "outcome", "--from", "2025-01", "--to", "2025-12")
    code, out, _ = run(street_store, *args, "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert rows and all(set(row) == {"crime_type", "last_outcome_category", "count"} for row in rows)
    code, _, err = run(street_store, "street", "counts", "--from", "2025-13")
    assert code == 1 and "not a month" in err and "Traceback" not in err


def test_reconciliation_with_table_c2_is_printed_with_its_ratio(
    street_store: Path, data_dir: Path, street_rows: list[dict[str, str]]
) -> None:
    c2 = data_dir / "ons-csp-tables" / "policeforceareatablesyejune25final.csv"
    with c2.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    header = next(i for i, row in enumerate(table) if row and row[0].startswith("Police Force"))
    column = next(i for i, name in enumerate(table[header]) if name.startswith("Total recorded crime"))
    recorded = int(next(row for row in table if row and row[0] == "E23000034")[column].strip().replace(",", ""))
    police_uk = sum(1 for row in street_rows if "2024-07" <= row["Month"] <= "2025-06" and row["Crime type"] != ASB)
    code, out, _ = run(street_store, "street", "reconcile", "City of London", "--period", "2025-06")
    assert code == 0, out
    assert f"{police_uk:,}" in out and f"{recorded:,}" in out
    assert f"Ratio police.uk / recorded crime: {police_uk / recorded:.2f}" in out
    assert "Action Fraud" in out and "map points" in out  # the documented reasons they differ
    code, out, _ = run(street_store, "street", "reconcile", "City of London", "--period", "2025-06", "-f", "json")
    data = json.loads(out)
    assert (data["police_uk_count"], data["recorded_count"]) == (police_uk, recorded)
    assert data["ratio"] == pytest.approx(police_uk / recorded) and data["recorded_source"] == "ons-csp"


# ---- the density map ------------------------------------------------------------------------------------------


def test_density_hexagons_add_up_to_the_crimes_with_a_map_point(
    street_store: Path, street_rows: list[dict[str, str]]
) -> None:
    year = [row for row in street_rows if "2024-07" <= row["Month"] <= "2025-06" and row["Crime type"] != ASB]
    located = [row for row in year if row["Longitude"] and row["Latitude"]]
    assert 0 < len(located) <= len(year)
    with Store(street_store, read_only=True) as store:
        found = street.street_density(store, reference.area("City of London"), dt.date(2025, 6, 1))
        assert street.street_density(store, reference.area("Wiltshire"), dt.date(2025, 6, 1)) is None
    assert found is not None and found["months_covered"] == 12
    counts = found["bins"].column("count").to_pylist()
    assert found["count"] == sum(counts) == len(located) and len(counts) > 100


def test_the_force_report_has_the_density_map_only_with_street_data(street_store: Path) -> None:
    with Store(street_store, read_only=True) as store:
        city = force_report(store, "City of London", "2025-06")
        other = force_report(store, "Wiltshire", "2025-06")
    assert "density" not in [chart.name for chart in other.charts]
    [density] = [chart for chart in city.charts if chart.name == "density"]
    assert density.title == "Where crimes were recorded in City of London, year ending June 2025 (data.police.uk)"
    assert density.description.startswith("Map of ") and "hexagons" in density.description
    assert density.spec["title"]["subtitle"][-1].startswith("Not shown: ")  # a few points far from the City


# ---- archives ---------------------------------------------------------------------------------------------


def archive(folder: Path, edition: str, files: list[Path], drop_last_row: str | None = None) -> Path:
    """A data.police.uk archive ``<edition>.zip`` of these monthly files; ``drop_last_row`` names a month whose
    copy in this archive has one row fewer (a revised month)."""
    path = folder / f"{edition}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as made:
        for file in files:
            text = file.read_text(encoding="utf-8")
            if file.name.startswith(drop_last_row or "-"):
                text = "".join(text.splitlines(keepends=True)[:-1])
            made.writestr(f"{edition}/{file.name}", text)
    return path


@pytest.mark.parametrize("order", ["older-first", "newer-first"])
def test_overlapping_archives_store_each_month_once_from_the_newest(
    data_dir: Path, tmp_path: Path, street_rows: list[dict[str, str]], order: str
) -> None:
    files = street_files(data_dir)
    older = archive(tmp_path, "2024-12", files[:12])  # 2024-01 … 2024-12
    newer = archive(tmp_path, "2025-06", files[6:18], drop_last_row="2024-07")  # 2024-07 … 2025-06
    with Store(tmp_path / "archives.duckdb") as store:
        report = store.ingest([older, newer] if order == "older-first" else [newer, older])
        assert [result.status for result in report.results] == ["ingested", "ingested"]
        [(rows,)] = store.con.execute("SELECT count(*) FROM street_crimes").fetchall()
        months = store.con.execute(
            "SELECT strftime(m.month, '%Y-%m'), f.file_name, m.rows FROM police_uk_months m"
            " JOIN files f USING (file_id) ORDER BY m.month"
        ).fetchall()
    expected = [row for row in street_rows if row["Month"] <= "2025-06"]
    assert rows == len(expected) - 1  # nothing counted twice; 2024-07 is the newer archive's copy, a row shorter
    assert [month for month, _, _ in months] == sorted({row["Month"] for row in expected})
    assert {month: name for month, name, _ in months} == {
        month: "2024-12.zip" if month < "2024-07" else "2025-06.zip" for month, _, _ in months
    }


def test_a_bad_row_in_one_member_of_a_month_names_that_member(data_dir: Path, tmp_path: Path) -> None:
    """A month's members are read in one call of DuckDB's reader: the error still names the member and row."""
    june = street_files(data_dir)[17]
    lines = june.read_text(encoding="utf-8").splitlines(keepends=True)
    shifted = lines[2].replace(",", ",,", 1)  # a cell too many: the row is shifted
    path = tmp_path / "2025-06.zip"
    with zipfile.ZipFile(path, "w") as made:
        made.writestr(f"2025-06/{june.name}", "".join(lines))
        made.writestr("2025-06/2025-06-metropolitan-street.csv", "".join([*lines[:2], shifted, *lines[3:]]))
    with Store(tmp_path / "bad.duckdb") as store:
        shown = r"2025-06/2025-06-metropolitan-street.csv, row 3, column E \(Longitude\)"
        with pytest.raises(SourceError, match=shown):
            store.ingest_file(path)
        assert store.con.execute("SELECT count(*) FROM street_crimes").fetchall() == [(0,)]


def test_an_archive_with_a_bad_member_stores_nothing(data_dir: Path, tmp_path: Path) -> None:
    files = street_files(data_dir)[:3]
    path = tmp_path / "2024-03.zip"
    with zipfile.ZipFile(path, "w") as made:
        for file in files:
            made.writestr(f"2024-03/{file.name}", file.read_text(encoding="utf-8"))
        made.writestr("2024-03/2024-03-atlantis-street.csv", files[0].read_text(encoding="utf-8"))
    with Store(tmp_path / "bad.duckdb") as store:
        with pytest.raises(SourceError, match="2024-03.zip: 2024-03/2024-03-atlantis-street.csv: unknown force"):
            store.ingest_file(path)
        assert store.con.execute("SELECT count(*) FROM street_crimes").fetchall() == [(0,)]


# ---- downloads ------------------------------------------------------------------------------------------------

ARCHIVES = "https://data.police.uk/data/archive"


@pytest.mark.parametrize(
    ("first", "last", "archives"),
    [
        (None, None, ["2025-12"]),  # the latest holds the latest 36 months
        ("2024-01", "2024-06", ["2025-12"]),  # the newest archive that holds them
        ("2019-01", "2025-06", ["2021-12", "2024-12", "2025-12"]),
        ("2010-12", "2013-12", ["2013-11", "2016-11"]),  # each as new as can be: 2016-11 holds 2013-12 to 2016-11
    ],
)
def test_the_fewest_archives_that_hold_the_months(first: str | None, last: str | None, archives: list[str]) -> None:
    dataset = load_catalogue()["police-uk-archive"]
    months = [None if month is None else dt.date.fromisoformat(f"{month}-01") for month in (first, last)]
    found = covering_archives(dataset, "2025-12", *months)
    assert [release.release for release in found] == archives
    assert [release.files[0].url for release in found] == [f"{ARCHIVES}/{name}.zip" for name in archives]
    with pytest.raises(DownloadError, match="archives start with 2010-12; 2010-11 is earlier"):
        covering_archives(dataset, "2025-12", dt.date(2010, 11, 1), None)


def test_download_fetches_the_fewest_archives_and_ingest_stores_what_was_asked(
    mirror: Mirror, data_dir: Path, tmp_path: Path, street_rows: list[dict[str, str]]
) -> None:
    """2022-01 to 2025-06 needs two archives (2024-12: 2022-01 to 2024-12, and the latest, 2025-12); the latest
    arrives in two pieces (the connection drops and the download resumes); ingest keeps the months and force."""
    older = archive(tmp_path, "2024-12", street_files(data_dir)[:12])
    mirror.set_file(f"{ARCHIVES}/2024-12.zip", older.read_bytes(), "application/zip")
    mirror.fault(f"{ARCHIVES}/2025-12.zip", Fault("drop", after=20_000))
    cache, db = tmp_path / "cache", tmp_path / "asked.duckdb"
    asked = ["--from", "2022-01", "--to", "2025-06", "--force", "City of London"]
    code, out, err = run(
        db, "data", "download", "police-uk-archive", "--dest", str(cache), "--mirror", mirror.base, *asked
    )
    assert code == 0, err
    assert sorted(path.name for path in (cache / "police-uk-archive").glob("*.zip")) == ["2024-12.zip", "2025-12.zip"]
    assert any(
        "range" in {h.lower() for h in entry.headers} for entry in mirror.requests_for(f"{ARCHIVES}/2025-12.zip")
    )
    command = f"crimestats ingest {cache} --from 2022-01 --to 2025-06 --force 'City of London'"
    assert command in " ".join(out.split())

    with Store(db) as store:  # another force first: nothing of the City's is stored
        report = store.ingest([cache], police_uk=Selection(force_code="E23000036"))
        assert not report.stored and [r.path.name for r in report.with_status("skipped") if r.source] == [
            "2024-12.zip",
            "2025-12.zip",
        ]
    code, out, err = run(db, "ingest", str(cache), *asked)  # the same archives again, for another force
    assert code == 0, err
    with Store(db, read_only=True) as store:
        stored = store.con.execute(
            "SELECT strftime(m.month, '%Y-%m'), f.file_name, m.rows FROM police_uk_months m"
            " JOIN files f USING (file_id) ORDER BY m.month"
        ).fetchall()
    expected = collections.Counter(row["Month"] for row in street_rows if row["Month"] <= "2025-06")
    assert [(month, rows) for month, _, rows in stored] == sorted(expected.items())
    assert {name for _, name, _ in stored} == {"2025-12.zip"}  # each month from the newest archive holding it
    code, _, err = run(db, "data", "download", "police-uk-archive", "--to", "2026-03", "--mirror", mirror.base)
    assert code == 1 and "published months up to 2025-12; 2026-03 is later" in err and "Traceback" not in err


# ---- outcomes and stop-and-search -----------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def outcome_rows(data_dir: Path) -> list[list[str]]:
    """Outcomes for the June 2025 crimes that have an ID, in the documented outcomes layout."""
    source = read_rows(street_files(data_dir)[17])
    return [
        [row[c] for c in OUTCOMES_HEADER[:-1]] + [row["Last outcome category"]] for row in source if row["Crime ID"]
    ]


def test_outcomes_and_stop_and_search_files_are_read_and_counted(data_dir: Path, tmp_path: Path) -> None:
    outcomes = write_csv(tmp_path / "2025-06-city-of-london-outcomes.csv", OUTCOMES_HEADER, outcome_rows(data_dir))
    stops = write_csv(tmp_path / "2025-06-city-of-london-stop-and-search.csv", STOPS_HEADER, STOPS)
    path = tmp_path / "kinds.duckdb"
    with Store(path) as store:
        report = store.ingest([outcomes, stops])
        assert [(r.status, r.rows) for r in report.results] == [
            ("ingested", len(outcome_rows(data_dir))),
            ("ingested", 3),
        ]
    with crimestats.open(path) as opened:
        coverage = opened.street_coverage().rows.to_pylist()
        assert coverage == [
            {"force_code": "E23000034", "force": "City of London", "month": "2025-06", "street": None}
            | {"outcomes": len(outcome_rows(data_dir)), "stop_and_search": 3}
        ]
        by_object = {row["object_of_search"]: row for row in opened.stops("object").rows.to_pylist()}
    assert by_object["Controlled drugs"]["count"] == 2 and by_object["Stolen goods"]["count"] == 1
    assert by_object["Controlled drugs"]["linked_share"] == 0.5 and by_object["Controlled drugs"]["share"] == 2 / 3
    code, out, _ = run(path, "street", "stops", "--by", "age", "--format", "csv")
    assert code == 0 and out.splitlines()[0] == "age_range,count,share,linked_share"


@pytest.mark.parametrize(
    ("name", "header", "row", "message"),
    [
        (
            "2025-06-city-of-london-outcomes.csv",
            OUTCOMES_HEADER[:-1],
            None,
            "row 1: missing column 'Outcome type' of the outcomes layout",
        ),
        (
            "2025-06-city-of-london-outcomes.csv",
            OUTCOMES_HEADER,
            "x,2025-06,City of London Police,City of London Police,-0.09,51.51,On or near, Cheapside,E01000001,"
            "City of London 001A,Local resolution",  # a comma in the location, unquoted: the row is shifted
            "row 4: has more cells than the header",
        ),
        (
            "2025-06-city-of-london-stop-and-search.csv",
            STOPS_HEADER,
            ["Person search", "2025-06-31T10:00:00+00:00", *STOPS[0][2:]],
            "row 4, column B (Date): '2025-06-31T10:00:00+00:00' is not a date and time",
        ),
        (
            "2025-06-city-of-london-outcomes.csv",
            OUTCOMES_HEADER,
            [
                "x",
                "June 2025",
                "City of London Police",
                "City of London Police",
                "-0.09",
                "51.51",
                "On or near Cheapside",
            ]
            + ["E01000001", "City of London 001A", "Local resolution"],
            "row 4, column B (Month): 'June 2025' is not a month written YYYY-MM",
        ),
        (
            "2025-06-city-of-london-outcomes.csv",
            OUTCOMES_HEADER,
            "c3,2025-05,City of London Police,City of London Police,-0.091,51.515,On or near Cheapside,E01032739,"
            "City of London 001F,Local resolution",
            "row 4, column B (Month): '2025-05' in a file for 2025-06 (the file name's month)",
        ),
        (
            "2025-06-atlantis-stop-and-search.csv",
            STOPS_HEADER,
            None,
            "2025-06-atlantis-stop-and-search.csv: unknown force 'atlantis' in the file name",
        ),
    ],
    ids=["missing-column", "shifted-row", "bad-date", "bad-month", "other-month", "unknown-force"],
)
def test_a_bad_file_is_one_error_naming_row_and_column_and_stores_nothing(
    tmp_path: Path, name: str, header: list[str], row: list[str] | str | None, message: str
) -> None:
    rows = [r[: len(header)] for r in (STOPS[:2] if "stop" in name else _two_outcomes())]
    path = write_csv(tmp_path / name, header, rows + ([row] if isinstance(row, list) else []))
    if isinstance(row, str):
        path.write_text(path.read_text(encoding="utf-8") + row + "\n", encoding="utf-8")
    with Store(tmp_path / "bad.duckdb") as store:
        with pytest.raises(SourceError) as raised:
            store.ingest_file(path)
        assert message in str(raised.value) and "\n" not in str(raised.value)
        counts = store.con.execute(
            "SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM street_outcomes),"
            " (SELECT count(*) FROM stop_and_search), (SELECT count(*) FROM police_uk_months)"
        ).fetchall()
    assert counts == [(0, 0, 0, 0)]


def _two_outcomes() -> list[list[str]]:
    base = ["City of London Police", "City of London Police", "-0.091", "51.515", "On or near Cheapside", "E01032739"]
    return [
        ["a1", "2025-06", *base, "City of London 001F", "Local resolution"],
        ["b2", "2025-06", *base, "City of London 001F", "Investigation complete; no suspect identified"],
    ]
