"""crimestats check: claims found in real and hand-labelled stories, and the verdicts they get.

The stories in tests/stories are written for these tests on the 2018-2019 releases; each has a sidecar JSON of
hand-labelled claims (the words, the measure, the verdict, and for a figure the official cell it must show,
read here from the workbook with openpyxl). The real story in ../shared/stories is on a release the data folder
does not hold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crimestats.check import check_text, find_claims, read_story
from crimestats.check.model import CheckResult
from crimestats.cli import app
from crimestats.store import Store

from official import ons_round, read_table

STORIES = Path(__file__).parent / "stories"
LABELLED = sorted(p for p in STORIES.iterdir() if p.suffix in (".txt", ".html") and p.with_suffix(".json").exists())
RELEASES = {
    "2019-03": "policeforceareatablesyeendingmarch2019.xlsx",
    "2019-09": "policeforceareatablesyearendingseptember2019.xlsx",
    "2019-12": "pfatablesdec19.xlsx",
}


def _labels(story: Path) -> list[dict[str, Any]]:
    labels: list[dict[str, Any]] = json.loads(story.with_suffix(".json").read_text(encoding="utf-8"))["claims"]
    return labels


def _span(text: str, label: dict[str, Any], after: int) -> tuple[int, int]:
    start = text.index(label["text"], after)
    return start, start + len(label["text"])


def _matches(result: CheckResult, labels: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Any]]:
    """Each label with the claim found over its words (None if none was), in the order of the text."""
    pairs, after = [], 0
    for label in labels:
        start, end = _span(result.text, label, after)
        after = start + 1
        found = [c for c in result.claims if c.claim.span[0] < end and start < c.claim.span[1]]
        pairs.append((label, found[0] if found else None))
    return pairs


@pytest.fixture(scope="module")
def checked(loaded_store: Store) -> dict[str, CheckResult]:
    return {story.name: check_text(loaded_store, read_story(story)) for story in LABELLED}


def test_at_least_six_labelled_stories_with_forty_claims() -> None:
    assert len(LABELLED) >= 6
    assert sum(len(_labels(story)) for story in LABELLED) >= 40


def test_extraction_recall_and_precision_are_at_least_90_percent(checked: dict[str, CheckResult]) -> None:
    labelled = found = correct_found = claims = 0
    for story in LABELLED:
        result, labels = checked[story.name], _labels(story)
        pairs = _matches(result, labels)
        labelled += len(labels)
        found += sum(claim is not None for _, claim in pairs)
        spans = [_span(result.text, label, 0) for label in labels]
        claims += len(result.claims)
        correct_found += sum(any(c.claim.span[0] < e and s < c.claim.span[1] for s, e in spans) for c in result.claims)
    recall, precision = found / labelled, correct_found / claims
    print(f"\nrecall {found}/{labelled} = {recall:.0%}, precision {correct_found}/{claims} = {precision:.0%}")
    assert recall >= 0.9 and precision >= 0.9


@pytest.mark.parametrize("story", LABELLED, ids=lambda p: p.stem)
def test_every_found_claim_gets_its_labelled_verdict_and_figure(
    story: Path, checked: dict[str, CheckResult], data_dir: Path
) -> None:
    for label, claim in _matches(checked[story.name], _labels(story)):
        if claim is None:
            continue
        assert claim.claim.measure == label["measure"], label["text"]
        assert claim.verdict == label["verdict"], (label["text"], claim.explanation)
        assert label.get("reason", "") in claim.explanation, (label["text"], claim.explanation)
        if "figure" in label:
            _assert_official(claim, label["figure"], data_dir)


def _assert_official(claim: Any, figure: dict[str, Any], data_dir: Path) -> None:
    """The published figure the verdict gives is the official workbook's cell, at the precision quoted."""
    table = read_table(data_dir / "ons-pfa-tables" / RELEASES[figure["release"]], figure["table"])
    cell = table.cells[(figure["area"], figure["heading"])]
    assert isinstance(cell, (int, float))
    expected = float(ons_round(cell, figure["places"])) if "places" in figure else cell
    assert claim.actual == expected, (claim.claim.text, claim.actual, expected)
    if claim.source is not None:
        assert claim.source["file"] == RELEASES[figure["release"]]
        assert claim.source["table"] == f"Table {figure['table']}" and claim.source["cell"]


WILTSHIRE_2021 = [
    "lowest",  # the headline
    "the lowest",  # lowest amount of recorded crime across England and Wales
    "the lowest",  # the lowest number of crimes of any of the 42 forces
    "52.7 crimes for every 1000",
    "8% increase",
    "12% increase",
    "the second lowest",
    "5.36 stalking and harassment crimes for every 1,000",
    "significantly below the average in similar force areas of 10.64 per 1,000",
    "fewer victims of crime per head of population than all 42 other police forces",
    "among the top performing areas",
]


def test_the_real_story_every_claim_found_and_none_checkable_without_its_release(
    loaded_store: Store, data_dir: Path
) -> None:
    path = data_dir.parent / "stories" / "wiltshire-ye-sep-2021.txt"
    if not path.exists():
        pytest.skip(f"no story at {path}")
    result = check_text(loaded_store, read_story(path))
    assert [c.claim.text for c in result.claims] == WILTSHIRE_2021
    for claim in result.claims:
        assert claim.verdict == "cannot check" and claim.actual is None and claim.source is None
        assert "year ending September 2021" in claim.explanation
        assert "crimestats data download ons-pfa-tables" in claim.explanation
        assert claim.claim.period == "2021-09" and claim.claim.force == "E23000038"


@pytest.mark.parametrize("name", ["recipe.txt", "football-report.txt"])
def test_text_not_about_crime_statistics_has_no_claims(name: str) -> None:
    assert find_claims(read_story(STORIES / name)) == []


def test_last_year_in_a_dated_story_is_the_calendar_year_before() -> None:
    claims = find_claims("Crime in Kent rose by 3% last year.", today=__import__("datetime").date(2020, 4, 23))
    assert [c.period for c in claims] == ["2019-12"]


runner = CliRunner()


def test_cli_json_has_the_issue_shape_and_md_html_mark_each_claim(cli_store: Store) -> None:
    story = str(STORIES / "kent-errors.txt")
    result = runner.invoke(app, ["--db", str(cli_store.path), "check", story, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    keys = {"text", "span", "force", "offence", "period", "measure", "claimed", "actual", "verdict", "explanation"}
    assert all(set(claim) == keys | {"source"} for claim in document["claims"])
    assert document["summary"] == {"correct": 0, "incorrect": 4, "needs_context": 4, "cannot_check": 1}
    markdown = runner.invoke(app, ["--db", str(cli_store.path), "check", story, "-f", "md"]).stdout
    assert "**107.8 crimes per 1,000** [1]" in markdown and "> [1] incorrect:" in markdown
    page = runner.invoke(app, ["--db", str(cli_store.path), "check", story, "-f", "html"]).stdout
    assert page.count("<mark") == len(document["claims"]) and "<script" not in page


def test_cli_reads_stdin_and_html_and_refuses_other_files(cli_store: Store, tmp_path: Path) -> None:
    html = (STORIES / "north-yorkshire-blog.html").read_text(encoding="utf-8")
    piped = runner.invoke(app, ["--db", str(cli_store.path), "check", "-", "-f", "json"], input=html)
    assert piped.exit_code == 0 and json.loads(piped.stdout)["summary"]["correct"] == 9
    other = tmp_path / "story.pdf"
    other.write_bytes(b"%PDF")
    refused = runner.invoke(app, ["--db", str(cli_store.path), "check", str(other)])
    assert refused.exit_code == 1 and "reads .txt, .md or .html" in refused.stderr and "Traceback" not in refused.output


def test_html_is_stripped_without_scripts_or_styles() -> None:
    text = read_story(STORIES / "north-yorkshire-blog.html")
    assert "999 crimes" not in text and "color" not in text and "rose by 12% – the force" in text
