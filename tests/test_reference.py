"""The reference data (forces, codes, offence classification) checked against the official files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from crimestats import reference
from crimestats.errors import UnknownAreaError, UnknownOffenceError


def test_forces_match_the_official_lookup_and_boundaries(data_dir: Path) -> None:
    lookup = (
        data_dir / "population" / "Local_Authority_District_to_CSPs_to_Police_Force_Areas_(December__2023)_Lookup_.csv"
    )
    with lookup.open(encoding="utf-8-sig") as handle:
        from_lookup = {row["PFA23CD"]: row["PFA23NM"] for row in csv.DictReader(handle)}
    boundaries = json.loads((data_dir / "boundaries" / "force_boundaries_ugc.geojson").read_text())
    from_boundaries = {f["properties"]["PFA16CD"]: f["properties"]["PFA16NM"] for f in boundaries["features"]}
    ours = {force.code: force for force in reference.forces()}
    assert len(ours) == 43
    assert set(ours) == set(from_lookup) == set(from_boundaries)
    for code, name in {**from_lookup, **from_boundaries}.items():
        assert ours[code].is_named(name), (code, name)


def test_every_home_office_code_and_force_is_known(data_dir: Path) -> None:
    with (data_dir / "home-office" / "prc-pfa-mar2013-onwards-tables201718.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert not {r["Offence Code"] for r in rows if reference.offence_for_code(r["Offence Code"]) is None}
    names = {r["Force Name"] for r in rows}
    kinds = {reference.area(name).kind for name in names}
    assert kinds == {"force", "transport", "fraud_body"}
    assert len([n for n in names if reference.area(n).kind == "force"]) == 43


def test_home_office_subgroups_map_onto_the_ons_classification(data_dir: Path) -> None:
    """Each Home Office subgroup lands under the ONS group of the same name (renamed subgroups included),
    except the five death or serious injury by driving codes that ONS counts as their own subgroup."""
    driving = {"4.4", "4.6", "4.8", "4.9", "37.1"}
    with (data_dir / "home-office" / "prc-pfa-mar2013-onwards-tables201718.csv").open() as handle:
        for row in csv.DictReader(handle):
            slug = reference.offence_for_code(row["Offence Code"])
            assert slug is not None
            ancestors = {a for o, a in reference.offence_ancestors() if o == slug}
            if row["Offence Group"] == "Fraud offences":
                assert slug == "fraud-offences"
                continue
            assert reference.offence(row["Offence Group"]).slug in ancestors, row
            if row["Offence Code"] in driving:
                assert slug == "death-or-serious-injury-unlawful-driving"
            else:
                assert reference.offence(row["Offence Subgroup"]).slug == slug, row


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("London, City of", "E23000034"),
        ("City of London14", "E23000034"),
        ("Devon & Cornwall", "E23000035"),
        ("Wiltshire Police", "E23000038"),
        ("dyfed-powys", "W15000004"),
        ("E230000118", "E23000011"),
        ("West Midlands", "E23000014"),
        ("ENGLAND AND WALES7,8", "K04000001"),
    ],
)
def test_area_names_aliases_and_codes(text: str, code: str) -> None:
    assert reference.area(text).code == code


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Domestic burglary", "residential-burglary"),
        ("Residental burglary4", "residential-burglary"),
        ("Miscellaneous crimes", "miscellaneous-crimes-against-society"),
        ("Stalking\nand harassment", "stalking-and-harassment"),
        ("Total recorded crime (excluding fraud3)", "total-excluding-fraud"),
        ("Death or serious injury - unlawful driving 5", "death-or-serious-injury-unlawful-driving"),
    ],
)
def test_offence_names_as_published(text: str, slug: str) -> None:
    assert reference.offence(text).slug == slug


def test_unknown_names_are_errors() -> None:
    with pytest.raises(UnknownAreaError, match="Atlantis"):
        reference.area("Atlantis")
    with pytest.raises(UnknownOffenceError, match="jaywalking"):
        reference.offence("jaywalking")


def test_classification_is_a_tree_with_one_root_below_fraud() -> None:
    slugs = {o.slug for o in reference.offences()}
    assert all(o.parent in slugs for o in reference.offences() if o.parent)
    roots = [o.slug for o in reference.offences() if o.parent is None]
    assert roots == ["total-excluding-fraud", "fraud-offences"]
