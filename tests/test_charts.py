"""Charts: the Vega-Lite specs say what they should (highlight, order, dropped rows), are valid Vega-Lite (checked
here once per kind of chart, never when a report is built), and they render with vl-convert to self-contained SVG
and PNG; the map from the real boundary file is drawn the right way out."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import altair as alt
import jsonschema
import pytest

from crimestats import analytics, reference
from crimestats.analytics import summaries
from crimestats.analytics.peers import peer_group
from crimestats.errors import NoDataError, PeriodError, UnknownAreaError
from crimestats.reports import charts
from crimestats.store import Store

from browser import decode_png, ink_fraction

BOUNDARIES = Path("boundaries/force_boundaries_ugc.geojson")
W3_NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}

#: League-table rows as the analytics give them: ranks from 1 for the lowest rate, none without a rate.
LEAGUE = [
    {
        "force_code": code,
        "force": name,
        "rate_per_1000": rate,
        "rate_ci_low": low,
        "rate_ci_high": high,
        "rank": rank,
        "ranked_of": None if rank is None else 4,
    }
    for code, name, rate, low, high, rank in [
        ("E23000038", "Wiltshire", 61.5, 60.9, 62.1, 2),
        ("E23000009", "North Yorkshire", 58.1, 57.6, 58.7, 1),
        ("E23000006", "Cleveland", 122.0, 121.1, 122.9, 4),
        ("E23000005", "Greater Manchester", None, None, None, None),
        ("E23000034", "City of London", float("nan"), None, None, None),
        ("E23000039", "Dorset", 70.1, None, None, 3),
    ]
]

PERIODS = [
    ("2018-12", "December 2018"),
    ("2019-03", "March 2019"),
    ("2019-06", "June 2019"),
    ("2019-09", "September 2019"),
]
TREND = [
    {
        "period": period,
        "period_label": f"year ending {label}",
        "series": series,
        "rate_per_1000": rate,
        "rate_ci_low": None if rate is None else rate - 0.6,
        "rate_ci_high": None if rate is None else rate + 0.6,
    }
    for series, rates in (("Wiltshire", [61.3, 61.0, 60.2, 62.0]), ("England and Wales", [83.9, 85.0, None, 89.1]))
    for (period, label), rate in zip(PERIODS, rates, strict=True)
]

#: Offence-mix rows as the analytics give them (analytics.summaries.offence_mix), the largest difference marked.
MIX: list[dict[str, Any]] = [
    {"offence": "Violence against the person", "force_rate": 21.1, "peer_rate": 18.4, "largest_difference": True},
    {"offence": "Theft offences", "force_rate": 22.2, "peer_rate": 25.0},
    {"offence": "Fraud offences", "force_rate": None, "peer_rate": None},
    {"offence": "Drug offences", "force_rate": None, "peer_rate": 2.1},
]


def funnel_data() -> dict[str, Any]:
    rows = [
        ("E23000038", "Wiltshire", 61.5, 720_000, "within"),
        ("E23000009", "North Yorkshire", 58.1, 824_400, "below"),
        ("E23000006", "Cleveland", 122.0, 567_000, "above"),
        ("E23000001", "Metropolitan Police", 102.3, 8_900_000, "within"),
    ]
    curve = [
        {"population": p, "lower_95": 87 - 3e4 / p**0.5, "upper_95": 87 + 3e4 / p**0.5,
         "lower_998": 87 - 5e4 / p**0.5, "upper_998": 87 + 5e4 / p**0.5}
        for p in (400_000, 1_000_000, 3_000_000, 10_000_000)
    ]  # fmt: skip
    return {
        "target": 87.0,
        "overdispersion": {"phi": 40.0, "tau2": 0.01, "winsorised": True, "adjusted": True},
        "method": "Spiegelhalter (2005) funnel plot",
        "rows": [
            {
                "force_code": code,
                "force": name,
                "rate_per_1000": rate,
                "population": population,
                "position": position,
                "lower_95": 80.0,
                "upper_95": 94.0,
                "lower_998": 75.0,
                "upper_998": 99.0,
            }
            for code, name, rate, population, position in rows
        ],  # fmt: skip
        "curve": curve,
    }


@pytest.fixture(scope="module")
def boundaries(data_dir: Path) -> dict[str, Any]:
    path = data_dir / BOUNDARIES
    if not path.is_file():
        message = f"boundary file not found at {path}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    geojson: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return geojson


def map_rows(boundaries: dict[str, Any]) -> list[dict[str, Any]]:
    """A made-up rate for every force but Greater Manchester, keyed by the file's codes, rising with the code, and
    its rank (1 = lowest rate) among the forces with a rate."""
    rows = []
    for index, feature in enumerate(sorted(boundaries["features"], key=lambda f: f["properties"]["PFA16CD"])):
        name = feature["properties"]["PFA16NM"]
        rate = None if name == "Greater Manchester" else 55.0 + index * 1.7
        rank = None if rate is None else 1 + sum(row["rate_per_1000"] is not None for row in rows)
        code = feature["properties"]["PFA16CD"]
        rows.append({"force_code": code, "force": name, "rate_per_1000": rate, "rank": rank})
    return rows


def layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec.get("layer", [spec]))


def values(layer: dict[str, Any], spec: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A layer's inline rows (Altair moves data that all layers share up to the top of the spec)."""
    data = layer.get("data") or (spec or {}).get("data") or {}
    found = (spec or layer)["datasets"][data["name"]] if "name" in data else data["values"]
    assert data.get("format") == {"type": "json"}  # rows travel as one JSON string
    return list(json.loads(found))


def assert_self_contained(svg: str) -> None:
    """No external references: only the SVG and XLink namespaces, local url(#id)s, no images or font faces."""
    assert set(re.findall(r"https?://[^\s\"')]+", svg)) <= W3_NAMESPACES
    assert all(ref.startswith("#") for ref in re.findall(r"url\(([^)]*)\)", svg))
    assert "<image" not in svg and "@font-face" not in svg and "@import" not in svg


# ---------------------------------------------------------------------------------------------------------------
# Specs


def test_league_sorts_lowest_first_drops_missing_rates_and_highlights_in_the_accent_colour() -> None:
    spec = charts.league_chart(LEAGUE, highlight="Wiltshire", title="Crime rates").to_dict()
    bars, intervals = layers(spec)
    names = [row["force"] for row in values(bars, spec)]
    assert names == ["North Yorkshire", "Wiltshire", "Dorset", "Cleveland"]  # None and NaN rates dropped
    assert bars["encoding"]["y"]["sort"] == names
    colour = bars["encoding"]["color"]
    assert colour["condition"][0]["value"] == charts.ACCENT
    assert "E23000038" in colour["condition"][0]["test"] and "force_code" in colour["condition"][0]["test"]
    assert colour["value"] == charts.GREY
    assert bars["encoding"]["x"]["title"] == "Crimes per 1,000 residents"
    assert {t["field"] for t in bars["encoding"]["tooltip"]} >= {"force", "rate_per_1000", "interval"}
    assert intervals["mark"]["type"] == "rule" and intervals["encoding"]["x2"]["field"] == "rate_ci_high"
    assert spec["width"] == charts.WIDTH
    assert spec["config"]["font"] == charts.FONT
    assert "Wiltshire is highlighted: 61.5, 2nd lowest of 4" in spec["description"]
    assert "2 forces with no published rate left out" in spec["description"]


def test_league_without_highlight_uses_one_colour_and_refuses_unknown_forces() -> None:
    spec = charts.league_chart(LEAGUE).to_dict()
    assert layers(spec)[0]["encoding"]["color"] == {"value": charts.NEUTRAL}
    assert "title" not in spec
    # by code, any case; a force with no rate can be highlighted but is said to have none
    assert (
        "No rate is published for Greater Manchester"
        in charts.league_chart(LEAGUE, "e23000005").to_dict()["description"]
    )
    with pytest.raises(UnknownAreaError, match="Wiltshre"):
        charts.league_chart(LEAGUE, highlight="Wiltshre")
    with pytest.raises(NoDataError):
        charts.league_chart([row for row in LEAGUE if row["rate_per_1000"] is None])


def test_league_positions_are_the_tables_ranks_and_a_shared_rank_is_joint() -> None:
    """Rates equal as printed (61.46 and 61.54 both print 61.5) share the table's rank: the chart says so, in the
    table's order, and counts no rank of its own."""
    rows = [
        {**LEAGUE[0], "rate_per_1000": 61.54, "rank": 2},
        {**LEAGUE[1], "rank": 1},
        {**LEAGUE[5], "force": "Dorset", "rate_per_1000": 61.46, "rank": 2},
        {**LEAGUE[2], "rank": 4},
    ]
    spec = charts.league_chart(rows, highlight="Wiltshire")
    bars = layers(spec)[0]
    positions = {row["force"]: row["rank"] for row in values(bars, spec)}
    assert positions == {
        "North Yorkshire": "1st lowest of 4",
        "Dorset": "joint 2nd lowest of 4",
        "Wiltshire": "joint 2nd lowest of 4",
        "Cleveland": "4th lowest of 4",
    }
    assert bars["encoding"]["y"]["sort"] == list(positions)
    assert "Wiltshire is highlighted: 61.5, joint 2nd lowest of 4." in spec["description"]
    # a rate without a rank is drawn but given no position of the chart's own
    unranked = charts.league_chart([{**LEAGUE[0], "rank": None, "ranked_of": None}, LEAGUE[1]], "Wiltshire")
    assert "Wiltshire is highlighted: 61.5, not ranked." in unranked["description"]


def test_trend_has_a_line_per_series_with_the_first_in_focus_and_gaps_for_missing_rates() -> None:
    spec = charts.trend_chart(TREND, title="Crime rate over time").to_dict()
    band, line, points = layers(spec)
    assert band["mark"]["type"] == "area" and band["encoding"]["y2"]["field"] == "rate_ci_high"
    assert line["mark"]["type"] == "line" and line["mark"]["invalid"] == "break-paths-show-domains"
    colour = line["encoding"]["color"]
    assert colour["scale"]["domain"] == ["Wiltshire", "England and Wales"]
    assert colour["scale"]["range"][0] == charts.ACCENT
    assert line["encoding"]["x"]["timeUnit"] == "utcyearmonth"
    dates = sorted({row["date"] for row in values(line, spec)})
    assert dates == ["2018-12-01", "2019-03-01", "2019-06-01", "2019-09-01"]
    assert [row["rate_per_1000"] for row in values(line, spec) if row["series"] == "England and Wales"][2] is None
    assert "Latest, year ending September 2019: Wiltshire 62.0; England and Wales 89.1." in spec["description"]
    # intervals of ±0.6 on a scale to 90 are thinner than the lines: the caption does not promise bands
    assert "Shaded bands" not in spec["description"]
    assert "too narrow to show at this scale (at most 0.60 either side of the rate)" in spec["description"]


def test_the_trend_caption_speaks_of_bands_only_where_they_show_and_of_the_last_period() -> None:
    """Small counts have wide intervals, drawn as shaded bands; 'Latest' is the chart's last period, the
    report's, even when a series stops before it."""
    wide = [
        {**row, "rate_ci_low": row["rate_per_1000"] - 9, "rate_ci_high": row["rate_per_1000"] + 9}
        for row in TREND
        if row["rate_per_1000"] is not None
    ]
    spec = charts.trend_chart(wide[:-1]).to_dict()  # England and Wales stops at June 2019
    assert "Shaded bands show 95% intervals." in spec["description"]
    assert spec["description"].endswith("Latest, year ending September 2019: Wiltshire 62.0.")
    band = layers(spec)[0]
    assert band["mark"]["type"] == "area" and band["mark"]["opacity"] > 0.15
    # a missing label is written from the period; a period that is not a quarter end is refused
    unlabelled = charts.trend_chart([{**TREND[0], "period_label": None}]).to_dict()
    assert values(layers(unlabelled)[0], unlabelled)[0]["period_label"] == "year ending December 2018"
    with pytest.raises(PeriodError):
        charts.trend_chart([{**TREND[0], "period": "2019-08"}])


def test_funnel_draws_limits_target_positions_and_labels_the_highlighted_force() -> None:
    spec = charts.funnel_chart(funnel_data(), highlight="Wiltshire", title="Funnel plot").to_dict()
    limits, target, target_label, points, ring, label = layers(spec)
    dash = limits["encoding"]["strokeDash"]["scale"]
    assert dash == {"domain": ["95% limits", "99.8% limits"], "range": [[5, 4], [1, 0]]}
    assert {row["line"] for row in values(limits, spec)} == {
        "95% limits lower", "95% limits upper", "99.8% limits lower", "99.8% limits upper"
    }  # fmt: skip
    assert values(target, spec)[0]["target"] == 87.0 and target["mark"]["type"] == "rule"
    assert values(target_label, spec)[0]["label"] == "Average 87.0"
    colour = points["encoding"]["color"]["scale"]
    assert colour["domain"] == ["Above the 99.8% limit", "Within the limits", "Below the 99.8% limit"]
    assert {row["force"]: row["position"] for row in values(points, spec)}["Cleveland"] == "Above the 99.8% limit"
    assert (
        points["encoding"]["x"]["field"] == "population" and points["encoding"]["x"]["title"] == "Residents (millions)"
    )
    assert ring["mark"]["type"] == "point"
    assert values(label, spec) == [row for row in values(points, spec) if row["force"] == "Wiltshire"]
    assert label["encoding"]["text"]["field"] == "force"
    low, high = points["encoding"]["y"]["scale"]["domain"]
    assert low <= 58.1 and high >= 122.0  # every point is inside the plot
    assert "widened for the usual differences between forces" in spec["title"]["subtitle"][0]
    assert "Method:" not in spec["description"]  # the method is in the report's methods section
    assert "further from the average than 998 in 1,000 forces of its size would be by chance" in spec["description"]


def test_offence_mix_pairs_the_force_with_its_peers_per_offence_group() -> None:
    spec = charts.offence_mix_chart(MIX, "Wiltshire", "Most similar forces", title="Offence mix").to_dict()
    encoding = spec["encoding"]
    assert encoding["color"]["scale"] == {
        "domain": ["Wiltshire", "Most similar forces"],
        "range": [charts.ACCENT, charts.GREY],
    }
    assert encoding["yOffset"]["field"] == "group"
    # an offence with neither rate is dropped; one rate alone still gets its bar
    assert encoding["y"]["sort"] == ["Violence against the person", "Theft offences", "Drug offences"]
    assert [(row["offence"], row["group"]) for row in values(spec)][-1] == (
        "Drug offences",
        "Most similar forces",
    )
    assert len(values(spec)) == 5
    assert "Largest difference: Violence against the person" in spec["description"]
    with pytest.raises(NoDataError):
        charts.offence_mix_chart(MIX[2:3], "Wiltshire", "Most similar forces")


def test_choropleth_joins_rates_to_boundaries_greys_missing_ones_and_outlines_the_highlight(
    boundaries: dict[str, Any],
) -> None:
    chart = charts.choropleth(boundaries, map_rows(boundaries), "PFA16CD", highlight="Wiltshire", title="Map")
    spec = chart.to_dict()
    assert spec["data"]["format"] == {"type": "json"}  # the geometry travels as one JSON string
    features = json.loads(spec["datasets"][spec["data"]["name"]])
    assert len(features) == len(boundaries["features"]) == 43
    by_name = {f["properties"]["force"]: f["properties"] for f in features}
    assert by_name["Greater Manchester"]["rate_per_1000"] is None
    assert by_name["Greater Manchester"]["rate_text"] == "no rate published"
    assert features[-1]["properties"]["force"] == "Wiltshire" and features[-1]["properties"]["focus"] is True
    assert sum(f["properties"]["focus"] for f in features) == 1
    encoding = spec["encoding"]
    assert encoding["color"]["field"] == "properties.rate_per_1000"
    assert encoding["color"]["condition"] == {
        "test": "!isValid(datum.properties.rate_per_1000)",
        "value": charts.NO_DATA,
    }
    assert encoding["stroke"]["condition"][0]["value"] == charts.INK
    assert spec["mark"]["invalid"] == "show"  # areas without a rate are drawn, not filtered out
    assert spec["projection"]["type"] == "transverseMercator"
    assert spec["title"]["subtitle"] == ["Light grey: no rate published (1 area)"]
    assert boundaries["features"][0]["properties"]["PFA16CD"]  # the caller's data is not changed
    with pytest.raises(UnknownAreaError):
        charts.choropleth(boundaries, [], "PFA16CD", highlight="Atlantis")
    with pytest.raises(ValueError, match="FeatureCollection"):
        charts.choropleth({"type": "Feature"}, [], "PFA16CD")


def test_rewind_makes_exterior_rings_clockwise_and_holes_anticlockwise() -> None:
    anticlockwise = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    clockwise = anticlockwise[::-1]
    hole = [[0.2, 0.2], [0.2, 0.4], [0.4, 0.4], [0.4, 0.2], [0.2, 0.2]]  # clockwise
    fixed = charts.rewind({"type": "Polygon", "coordinates": [anticlockwise, hole]})
    assert fixed["coordinates"] == [clockwise, hole[::-1]]
    assert charts.rewind(fixed) == fixed
    multi = charts.rewind({"type": "MultiPolygon", "coordinates": [[anticlockwise], [clockwise]]})
    assert multi["coordinates"] == [[clockwise], [clockwise]]
    assert charts.rewind({"type": "Point", "coordinates": [0, 1]}) == {"type": "Point", "coordinates": [0, 1]}


def test_the_boundary_file_is_already_wound_for_d3(boundaries: dict[str, Any]) -> None:
    """Its exterior rings are clockwise (the reverse of RFC 7946), so rewinding changes nothing."""
    for feature in boundaries["features"]:
        geometry = feature["geometry"]
        assert charts.rewind(geometry)["coordinates"] == geometry["coordinates"], feature["properties"]["PFA16NM"]


def test_every_kind_of_chart_is_valid_vega_lite(boundaries: dict[str, Any]) -> None:
    """The specs are plain dicts, checked against the Vega-Lite schema Altair ships here and nowhere else (building a
    report validates nothing): each kind of chart, with and without a highlight, title, notes or rates."""
    made = [chart for chart, _ in all_charts(boundaries).values()] + [
        charts.league_chart(LEAGUE),
        charts.trend_chart(TREND, notes=["A note and no title."]),
        charts.funnel_chart({**funnel_data(), "overdispersion": None, "method": None}),
        charts.choropleth(boundaries, [], "PFA16CD"),
    ]
    for chart in made:
        assert chart["$schema"] == alt.SCHEMA_URL
        assert chart.to_dict(validate=True) == chart
    broken = charts.Spec({**made[3], "mark": {"type": "bars"}})
    with pytest.raises(jsonschema.ValidationError):
        broken.to_dict(validate=True)


def test_building_a_chart_loads_neither_altair_nor_vl_convert() -> None:
    """vl-convert is loaded to draw, Altair only to validate."""
    code = (
        "import sys, crimestats.reports.charts as c;"
        " c.league_chart([{'force_code': 'E23000038', 'force': 'Wiltshire', 'rate_per_1000': 61.5}], 'Wiltshire');"
        " print(sorted({'altair', 'vl_convert'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------------------------
# Rendering


def test_a_drawn_chart_is_kept_and_read_back_without_drawing_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vl_convert as vlc

    chart = charts.league_chart(LEAGUE, highlight="Wiltshire", title="Crime rates by force")
    monkeypatch.setenv("CRIMESTATS_CHART_CACHE", "")  # no cache: drawn every time, nothing kept
    fresh = charts.to_svg(chart)
    monkeypatch.setenv("CRIMESTATS_CHART_CACHE", str(tmp_path / "charts"))
    assert charts.to_svg(chart) == fresh
    assert [path.suffix for path in (tmp_path / "charts").iterdir()] == [".svg"]

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("drawn again")

    monkeypatch.setattr(vlc, "vegalite_to_svg", refuse)
    assert charts.to_svg(chart) == fresh  # read back
    monkeypatch.setenv("CRIMESTATS_CHART_CACHE", "")
    with pytest.raises(AssertionError, match="drawn again"):
        charts.to_svg(chart)


#: Hexagons as :func:`crimestats.analytics.street.hex_bins` counts them: 120 m (centre to corner) near the City,
#: and one far away (outlying).
DENSITY = [
    {"q": q, "r": r, "longitude": -0.09 + 0.0030 * (q + r / 2), "latitude": 51.515 + 0.0016 * r}
    | {"count": 1 + (q * 7 + r * 3) % 40, "outlying": False}
    for q in range(-3, 4)
    for r in range(-3, 4)
] + [{"q": 900, "r": 40, "longitude": -4.99, "latitude": 51.6, "count": 2, "outlying": True}]


def all_charts(boundaries: dict[str, Any]) -> dict[str, tuple[charts.Spec, list[str]]]:
    """name → (chart, texts its SVG must contain)."""
    return {
        "league": (
            charts.league_chart(LEAGUE, highlight="Wiltshire", title="Crime rates by force"),
            ["Crime rates by force", "North Yorkshire", "Cleveland", "Crimes per 1,000 residents"],
        ),
        "trend": (
            charts.trend_chart(TREND, title="Crime over time"),
            ["Crime over time", "England and Wales", "Dec 2018"],
        ),
        "funnel": (
            charts.funnel_chart(funnel_data(), highlight="Wiltshire", title="Funnel plot"),
            ["Funnel plot", "Wiltshire", "99.8% limits", "Residents (millions)", "Average 87.0"],
        ),
        "offence mix": (
            charts.offence_mix_chart(MIX, "Wiltshire", "Most similar forces", title="Offence mix"),
            ["Offence mix", "Violence against the person", "Most similar forces"],
        ),
        "map": (
            charts.choropleth(boundaries, map_rows(boundaries), "PFA16CD", highlight="Wiltshire", title="Crime map"),
            ["Crime map", "Light grey: no rate published", "Crimes per 1,000 residents"],
        ),
        "density": (
            charts.density_map(DENSITY, 0.12, 51.515, "Where crimes were recorded"),
            ["Where crimes were recorded", "Each hexagon is about 210 m across.", "Crimes in the hexagon"],
        ),
    }


def test_the_density_map_draws_each_hexagon_around_its_centre_and_names_what_it_leaves_out() -> None:
    spec = charts.density_map(DENSITY, 0.12, 51.515, "Where crimes were recorded")
    [features] = [json.loads(values) for values in spec["datasets"].values()]
    assert len(features) == len(DENSITY) - 1  # the outlying hexagon is not drawn
    east = 111.32 * math.cos(math.radians(51.515))
    for feature, row in zip(features, DENSITY, strict=False):
        [ring] = feature["geometry"]["coordinates"]
        assert len(ring) == 7 and ring[0] == ring[-1]
        for longitude, latitude in ring:
            distance = math.hypot((longitude - row["longitude"]) * east, (latitude - row["latitude"]) * 111.32)
            assert distance == pytest.approx(0.12, abs=0.001)
        assert feature["properties"]["count"] == row["count"]
    shown = sum(row["count"] for row in DENSITY[:-1])
    assert spec["description"].startswith(f"Map of {shown:,} crimes with a map point, counted in 49 hexagons")
    assert spec["title"]["subtitle"][-1] == "Not shown: 2 crimes placed far from the others."
    with pytest.raises(NoDataError):
        charts.density_map(DENSITY[-1:], 0.12, 51.515)


def test_every_chart_renders_to_a_self_contained_labelled_svg(boundaries: dict[str, Any]) -> None:
    ids: set[str] = set()
    for name, (chart, texts) in all_charts(boundaries).items():
        svg = charts.to_svg(chart)
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>"), name
        for text in texts:
            assert text in svg, (name, text)
        assert_self_contained(svg)
        root = svg[: svg.index(">")]
        assert 'role="img"' in root and "aria-label=" in root, name
        assert "<desc>" in svg, name
        assert "font-family=\"Arial, 'Liberation Sans'" in svg, name
        own = set(re.findall(r'\bid="([^"]+)"', svg))
        assert not own & ids, f"{name} reuses ids of another chart: {own & ids}"
        ids |= own


def test_svg_marks_carry_readable_labels() -> None:
    svg = charts.to_svg(charts.league_chart(LEAGUE, highlight="Wiltshire"))
    assert 'aria-label="Wiltshire: 61.5 (95% interval 60.9 to 62.1), 2nd lowest of 4"' in svg


def test_choropleth_of_the_real_boundaries_draws_43_areas_the_right_way_out(boundaries: dict[str, Any]) -> None:
    chart = charts.choropleth(boundaries, map_rows(boundaries), "PFA16CD", highlight="Wiltshire")
    svg = charts.to_svg(chart)
    shapes = re.search(r'<g class="mark-shape role-mark[^"]*"[^>]*>(.*?)</g>', svg, re.S)
    assert shapes is not None
    assert shapes.group(1).count('aria-roledescription="geoshape"') == 43
    assert "Greater Manchester: no rate published" in svg
    share = ink_fraction(charts.to_png(chart))
    assert 0.05 < share < 0.8, f"{share:.0%} of the map image is painted: the polygons are inverted or missing"


def test_the_inversion_check_catches_rings_wound_the_rfc_7946_way(boundaries: dict[str, Any]) -> None:
    """Reversed rings draw as the globe minus England and Wales (a filled rectangle) unless rewound."""

    def reverse(geometry: dict[str, Any]) -> dict[str, Any]:
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        flipped = [[ring[::-1] for ring in polygon] for polygon in polygons]
        return {"type": geometry["type"], "coordinates": flipped[0] if geometry["type"] == "Polygon" else flipped}

    rfc = {**boundaries, "features": [{**f, "geometry": reverse(f["geometry"])} for f in boundaries["features"]]}
    raw = (
        alt.Chart(alt.Data(values=rfc["features"]))  # type: ignore[no-untyped-call]
        .mark_geoshape(fill=charts.NEUTRAL)
        .project(type="transverseMercator", rotate=[2, 0, 0])
        .properties(width=520, height=600)
    )
    assert ink_fraction(charts.to_png(raw)) > 0.8
    assert 0.05 < ink_fraction(charts.to_png(charts.choropleth(rfc, map_rows(boundaries), "PFA16CD"))) < 0.8


def test_to_png_renders_at_the_requested_scale() -> None:
    chart = charts.offence_mix_chart(MIX, "Wiltshire", "Most similar forces")
    width, height, channels, _ = decode_png(charts.to_png(chart))
    double_width, double_height, _, _ = decode_png(charts.to_png(chart, scale=2))
    assert channels in (3, 4) and width > charts.WIDTH
    assert (double_width, double_height) == (2 * width, 2 * height)


def test_rendering_takes_a_spec_dict_as_well_as_a_chart() -> None:
    chart = charts.offence_mix_chart(MIX, "Wiltshire", "Most similar forces", title="Offence mix")
    assert charts.to_svg(chart.to_dict(validate=False)) == charts.to_svg(chart)
    assert decode_png(charts.to_png(chart.to_dict()))[:2] == decode_png(charts.to_png(chart))[:2]


# ---------------------------------------------------------------------------------------------------------------
# With the analytics that feed the charts


def test_charts_take_the_analytics_output_as_it_comes(loaded_store: Store) -> None:
    league = analytics.league_table(loaded_store, "2019-12").to_pylist()
    league_svg = charts.to_svg(charts.league_chart(league, highlight="Wiltshire"))
    assert "Wiltshire" in league_svg and "West Yorkshire" in league_svg
    funnel = analytics.funnel(loaded_store, "2019-12")
    spec = charts.funnel_chart(funnel, highlight="Wiltshire").to_dict()
    assert len(values(layers(spec)[3], spec)) == len(funnel["rows"])
    assert_self_contained(charts.to_svg(charts.funnel_chart(funnel, highlight="Wiltshire")))


# ---------------------------------------------------------------------------------------------------------------
# Charts of one offence, and notes


def test_charts_name_the_offence_they_measure_on_every_axis_and_in_the_description(
    boundaries: dict[str, Any],
) -> None:
    """A burglary chart says 'Burglary per 1,000 residents' everywhere, never 'Crimes per 1,000 residents' (a
    layer left with the default title would make the axis read 'Burglary …, Crimes …')."""
    measure = "Burglary per 1,000 residents"
    made = {
        "league": charts.league_chart(LEAGUE, "Wiltshire", measure=measure),
        "trend": charts.trend_chart(TREND, measure=measure),
        "funnel": charts.funnel_chart(funnel_data(), "Wiltshire", measure=measure),
        "map": charts.choropleth(boundaries, map_rows(boundaries), "PFA16CD", "Wiltshire", measure=measure),
    }
    for name, chart in made.items():
        spec = chart.to_dict()
        assert spec["description"].startswith(
            {"league": "Bar chart of", "trend": "Line chart of", "funnel": "Funnel plot of", "map": "Map of"}[name]
        )
        assert "burglary per 1,000 residents" in spec["description"], name
        svg = charts.to_svg(chart)
        assert measure in svg and "Crimes per 1,000" not in svg and "crimes per 1,000" not in svg, name


def test_trend_notes_go_in_the_subtitle_wrapped_to_the_chart_and_in_the_description() -> None:
    note = (
        "From the year ending September 2019, Greater Manchester had no figures: England and Wales (excluding "
        "Greater Manchester) is drawn as a separate line."
    )
    spec = charts.trend_chart(TREND, "Crime over time", notes=[note, "Second note."]).to_dict()
    subtitle = spec["title"]["subtitle"]
    assert len(subtitle) == 3 and all(len(line) <= 96 for line in subtitle)
    assert " ".join(subtitle) == f"{note} Second note."
    assert spec["description"].endswith(
        f"Latest, year ending September 2019: Wiltshire 62.0; England and Wales 89.1. {note} Second note."
    )
    svg = charts.to_svg(spec)
    assert all(f">{line}</tspan>" in svg for line in subtitle)  # one line of the subtitle each
    assert "subtitle" not in charts.trend_chart(TREND, "Crime over time").to_dict()["title"]


def test_offence_mix_says_what_its_rows_are() -> None:
    rows = [
        {"offence": "Residential burglary", "force_rate": 2.7, "peer_rate": 3.7, "largest_difference": True},
        {"offence": "Non-residential burglary", "force_rate": 1.5, "peer_rate": 2.0},
    ]
    spec = charts.offence_mix_chart(rows, "Wiltshire", "Peer average", what="types of burglary").to_dict()
    assert spec["description"].startswith(
        "Paired bar chart of crimes per 1,000 residents in 2 types of burglary, comparing Wiltshire with Peer average."
    )
    assert "Largest difference: Residential burglary, 2.70 against 3.70." in spec["description"]


def test_the_map_names_the_lowest_and_highest_by_rank_all_of_them_where_it_is_joint(
    boundaries: dict[str, Any],
) -> None:
    rows = map_rows(boundaries)
    spec = charts.choropleth(boundaries, rows, "PFA16CD").to_dict()
    rated = [row for row in rows if row["rank"] is not None]
    low, high = rated[0], rated[-1]
    assert f" Lowest {low['force']} ({low['rate_per_1000']:.1f}), highest {high['force']} (" in spec["description"]
    # ranks come from the analytics (equal rates as printed share one), never from sorting rates here
    tied = [{**row, "rank": 1} if row is rated[1] else row for row in rows]
    spec = charts.choropleth(boundaries, tied, "PFA16CD").to_dict()
    names = " and ".join(sorted([low["force"], rated[1]["force"]]))
    assert f" Lowest {names} (joint, {low['rate_per_1000']:.1f})," in spec["description"]
    unranked = [{**row, "rank": None} for row in rows]
    assert "Lowest" not in charts.choropleth(boundaries, unranked, "PFA16CD").to_dict()["description"]


def test_the_offence_mix_analytics_mark_the_largest_difference_as_a_ratio(loaded_store: Store) -> None:
    """analytics.summaries.offence_mix gives the chart its rows: the force's rate, its group's simple mean, and
    the one offence where the two differ most as a ratio (what the chart's description names)."""
    period = "2019-09"
    leagues = analytics.period_leagues(loaded_store, period)
    group = peer_group(loaded_store, "Wiltshire", period)
    groups = [o.slug for o in reference.offences() if o.level == "group" and o.slug in leagues]
    mix = summaries.offence_mix(summaries.peer_results(group, leagues, groups))
    assert [row["offence"] for row in mix] == groups
    assert sum(row["largest_difference"] for row in mix) == 1
    compared = [row for row in mix if row["force_rate"] and row["peer_rate"]]
    widest = max(compared, key=lambda row: abs(math.log(row["force_rate"] / row["peer_rate"])))
    assert widest["largest_difference"]
    spec = charts.offence_mix_chart([{**row, "offence": row["offence_name"]} for row in mix], "Wiltshire", "Peers")
    assert f"Largest difference: {widest['offence_name']}, " in spec.to_dict()["description"]
    assert not any(
        row["largest_difference"] for row in summaries.offence_mix(summaries.peer_results(group, leagues, []))
    )
