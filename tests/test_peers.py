"""Peer groups: the user's most similar groups file, computed groups, and the two averages, checked against
the published ONS tables read independently."""

from __future__ import annotations

from pathlib import Path

import pytest

from crimestats import reference
from crimestats.analytics import Options
from crimestats.analytics.peers import computed_peer_group, peer_comparison
from crimestats.errors import NoDataError, SourceError, UnknownAreaError
from crimestats.sources.peer_groups import read_peer_groups
from crimestats.store import Store

from official import Published

# A group made up for the test (crimestats ships no membership): Wiltshire and seven forces, names and codes mixed.
GROUP = ["Dorset", "E23000036", "Gloucestershire", "North Yorkshire", "Suffolk", "West Mercia", "Warwickshire"]


def write_msg(tmp_path: Path, rows: list[tuple[str, str]], header: str = "force,peer") -> Path:
    path = tmp_path / "msg.csv"
    path.write_text(header + "\n" + "".join(f"{a},{b}\n" for a, b in rows), encoding="utf-8")
    return path


def test_groups_are_read_by_name_or_code_and_are_not_symmetric(tmp_path: Path) -> None:
    rows = [("Wiltshire", peer) for peer in GROUP] + [("Dorset Police", "Devon and Cornwall")]
    groups = read_peer_groups(write_msg(tmp_path, rows))
    wiltshire, dorset = reference.area("Wiltshire").code, reference.area("Dorset").code
    assert groups[wiltshire] == tuple(reference.area(p).code for p in GROUP)
    assert groups[dorset] == (reference.area("Devon and Cornwall").code,)
    assert wiltshire not in groups[dorset]


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ([("Wiltshire", "Dorset")], "force,member", "msg.csv, row 1: the header must be 'force,peer'"),
        ([("Wiltshire", "Atlantis")], "force,peer", "msg.csv, row 2, column B: 'Atlantis' is not one of the 43"),
        ([("Wessex", "Dorset")], "force,peer", "msg.csv, row 2, column A: 'Wessex' is not one of the 43"),
        ([("Wiltshire", "Wiltshire Police")], "force,peer", "msg.csv, row 2, column B: Wiltshire is listed as its own"),
        ([("Wiltshire", "Dorset")] * 2, "force,peer", "msg.csv, row 3, column B: Dorset is listed twice"),
        ([("Wiltshire", "South East")], "force,peer", "msg.csv, row 2, column B: 'South East' is not one of the 43"),
        ([], "force,peer", "msg.csv, row 2: no rows below the header"),
    ],
)
def test_bad_groups_files_get_one_line_errors(
    tmp_path: Path, rows: list[tuple[str, str]], header: str, message: str
) -> None:
    with pytest.raises(SourceError) as raised:
        read_peer_groups(write_msg(tmp_path, rows, header))
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_more_than_seven_peers_is_refused(tmp_path: Path) -> None:
    rows = [("Wiltshire", peer) for peer in [*GROUP, "Cumbria"]]
    with pytest.raises(SourceError, match=r"row 9, column B: more than 7 peers for Wiltshire"):
        read_peer_groups(write_msg(tmp_path, rows))


def _p3_rate(p3: Published, code: str) -> float:
    value = p3.cells[(code, "total recorded crime excluding fraud")]
    assert isinstance(value, float | int)
    return float(value)


@pytest.mark.parametrize("vintage", ["2018-03", "2019-09"])
def test_both_averages_agree_with_the_published_tables(
    loaded_store: Store, published: dict[str, dict[str, Published]], tmp_path: Path, vintage: str
) -> None:
    groups = read_peer_groups(write_msg(tmp_path, [("Wiltshire", peer) for peer in GROUP]))
    result = peer_comparison(loaded_store, "Wiltshire", vintage, groups=groups)
    codes = [reference.area(name).code for name in ["Wiltshire", *GROUP]]
    p1, p3 = published[vintage]["P1"], published[vintage]["P3"]
    population = next(h for h in p3.headings if h.startswith("population figures"))
    counts = [float(p1.cells[(c, "total recorded crime excluding fraud")]) for c in codes]  # type: ignore[arg-type]
    residents = [float(p3.cells[(c, population)]) for c in codes]  # type: ignore[arg-type]
    assert [m["force_code"] for m in result["members"]] == codes
    assert result["members"][0]["is_force"] and not any(m["is_force"] for m in result["members"][1:])
    # P3 prints rates to 1 dp, so the mean of the printed rates is within 0.05 of the mean of the exact rates.
    assert result["simple_mean"] == pytest.approx(sum(_p3_rate(p3, c) for c in codes) / len(codes), abs=0.05)
    assert result["weighted_mean"] == pytest.approx(sum(counts) / sum(residents) * 1000, rel=1e-12)
    assert result["rate_per_1000"] == pytest.approx(_p3_rate(p3, codes[0]), abs=0.05)
    assert result["method"].startswith("Home Office most similar group") and not result["computed"]
    assert result["average_printed"] == "simple_mean"
    assert result["verdict"] in {
        "statistically significantly lower than the rest of the group",
        "statistically significantly higher than the rest of the group",
        "not statistically significantly different from the rest of the group",
    }


def test_a_force_with_no_group_in_the_file_is_an_error(loaded_store: Store, tmp_path: Path) -> None:
    groups = read_peer_groups(write_msg(tmp_path, [("Dorset", "Wiltshire")]))
    with pytest.raises(UnknownAreaError, match="has no group for Wiltshire"):
        peer_comparison(loaded_store, "Wiltshire", "2019-09", groups=groups)


def test_missing_members_are_listed_but_left_out_of_the_averages(loaded_store: Store, tmp_path: Path) -> None:
    """Greater Manchester has no figures ('..') for the year ending September 2019."""
    groups = read_peer_groups(write_msg(tmp_path, [("Merseyside", "Greater Manchester"), ("Merseyside", "Kent")]))
    result = peer_comparison(loaded_store, "Merseyside", "2019-09", groups=groups)
    gmp = next(m for m in result["members"] if m["force"] == "Greater Manchester")
    assert gmp["rate_per_1000"] is None
    rated = [m for m in result["members"] if m["rate_per_1000"] is not None]
    assert len(rated) == 2
    assert result["simple_mean"] == pytest.approx(sum(m["rate_per_1000"] for m in rated) / 2)


def test_computed_groups_are_labelled_and_exclude_the_force_and_forces_without_figures(loaded_store: Store) -> None:
    group = computed_peer_group(loaded_store, "Wiltshire", "2019-09")
    assert group.computed and "not the Home Office most similar group" in group.method
    assert len(group.members) == 7 and len(set(group.members)) == 7
    excluded = {reference.area(n).code for n in ("Wiltshire", "Greater Manchester", "City of London")}
    assert not excluded & set(group.members)
    # A rural shire force's nearest forces are not the big metropolitan forces.
    metropolitan = {reference.area(n).code for n in ("Metropolitan Police", "West Midlands", "Merseyside")}
    assert not metropolitan & set(group.members)


def test_computed_group_for_a_force_with_no_figures_is_an_error(loaded_store: Store) -> None:
    with pytest.raises(NoDataError, match="Greater Manchester has no figures"):
        computed_peer_group(loaded_store, "Greater Manchester", "2019-09")


def test_a_force_without_a_rate_is_plainly_left_out_of_its_group_average(loaded_store: Store, tmp_path: Path) -> None:
    """City of London's rate is suppressed: the 'average' is the Met's rate alone, and the note says so."""
    groups = read_peer_groups(write_msg(tmp_path, [("City of London", "Metropolitan Police")]))
    result = peer_comparison(loaded_store, "City of London", "2019-09", groups=groups)
    city, met = result["members"]
    assert city["rate_per_1000"] is None and city["count"] == 8278
    assert result["simple_mean"] == met["rate_per_1000"] == pytest.approx(903466 / 8899400 * 1000)
    assert result["rate_per_1000"] is None and result["difference"] is None and result["p_value"] is None
    note = result["average_note"]
    assert note.startswith("simple mean of the rates of the 1 force in the group with a rate (as the HMIC")
    assert "City of London's own rate is not available (rate per 1,000 residents suppressed by ONS" in note
    assert "so it is not included" in note
    assert "1 forces" not in note and "including City of London" not in note
    assert result["verdict"] == "no rate for City of London to compare"


def test_plural_forces_in_the_average_note(loaded_store: Store, tmp_path: Path) -> None:
    groups = read_peer_groups(write_msg(tmp_path, [("Wiltshire", "Dorset"), ("Wiltshire", "Suffolk")]))
    result = peer_comparison(loaded_store, "Wiltshire", "2019-09", groups=groups)
    assert result["average_note"].startswith(
        "simple mean of the rates of the 3 forces in the group with a rate, including Wiltshire (as the HMIC"
    )


def test_the_newest_release_is_compared_on_the_latest_population_estimate(loaded_store: Store) -> None:
    """The year ending June 2025 would use mid-2024, which the store does not hold: mid-2023, the latest, is used
    by default, as when it is chosen; 41,090 offences are stored."""
    default = peer_comparison(loaded_store, "Wiltshire", "2025-06")
    result = peer_comparison(loaded_store, "Wiltshire", "2025-06", options=Options(population_year=2023))
    assert default["rate_per_1000"] == pytest.approx(result["rate_per_1000"])
    wiltshire = result["members"][0]
    assert (wiltshire["count"], wiltshire["population"]) == (41090, 756396)
    assert result["rate_per_1000"] == pytest.approx(41090 / 756396 * 1000)
    assert result["computed"] and len(result["members"]) == 8


def test_a_suppressed_rate_has_no_computed_group(loaded_store: Store) -> None:
    with pytest.raises(NoDataError, match=r"^City of London has no rate to compare with a peer group \(rate per"):
        peer_comparison(loaded_store, "City of London", "2019-09")


@pytest.mark.parametrize(
    ("area", "message"),
    [
        ("England and Wales", "England and Wales is the national total, not a police force"),
        ("North West", "North West is a region, not a police force"),
        ("BTP", "British Transport Police is not one of the 43 territorial police forces, so it has no peers"),
    ],
)
def test_peers_are_for_territorial_forces(loaded_store: Store, area: str, message: str) -> None:
    with pytest.raises(UnknownAreaError, match=message):
        peer_comparison(loaded_store, area, "2019-09")
