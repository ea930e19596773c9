"""Charts as Vega-Lite specs built from plain rows, and static SVG/PNG rendering with vl-convert.

Every chart carries its data inline, shares one theme (installed sans-serif fonts, never web fonts), has titles and
axis labels in plain words and a ``description`` for screen readers. Rendering never touches the network.

A chart function returns a :class:`Spec`: the finished Vega-Lite spec as a plain dict (with Altair's ``to_dict``),
built without Altair, so building a report's charts validates and copies nothing. The tests validate every kind of
chart against the Vega-Lite schema. vl-convert is imported only to draw (:func:`to_svg`, :func:`to_png`) or to
compile to Vega (:func:`to_vega`). The theme is applied with ``config``, so a chart is finished: it cannot be put
inside another layer or concatenation.

One module per chart (:mod:`.league`, :mod:`.trend`, :mod:`.funnel`, :mod:`.offence_mix`, :mod:`.choropleth`,
:mod:`.density`);
the theme and :func:`finish` in ``_theme``, spec building blocks in ``_spec``, boundary preparation in
``_geometry``, drawing in :mod:`.render`. Charts draw the statistics they are given and compute none.
"""

from crimestats.reports.charts._geometry import prepared_boundaries, rewind
from crimestats.reports.charts._spec import Spec
from crimestats.reports.charts._theme import ACCENT, FONT, GREY, INK, NEUTRAL, NO_DATA, THEME, WIDTH
from crimestats.reports.charts.choropleth import choropleth
from crimestats.reports.charts.density import density_map
from crimestats.reports.charts.funnel import funnel_chart
from crimestats.reports.charts.league import league_chart
from crimestats.reports.charts.offence_mix import offence_mix_chart
from crimestats.reports.charts.render import to_png, to_svg, to_vega
from crimestats.reports.charts.trend import trend_chart

__all__ = [
    "ACCENT",
    "FONT",
    "GREY",
    "INK",
    "NEUTRAL",
    "NO_DATA",
    "THEME",
    "WIDTH",
    "Spec",
    "choropleth",
    "density_map",
    "funnel_chart",
    "league_chart",
    "offence_mix_chart",
    "prepared_boundaries",
    "rewind",
    "to_png",
    "to_svg",
    "to_vega",
    "trend_chart",
]
