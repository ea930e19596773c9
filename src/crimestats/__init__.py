"""crimestats: police recorded crime statistics for England and Wales, from the official files.

``crimestats.open()`` returns an object whose methods answer every question the CLI answers::

    import crimestats
    with crimestats.open() as stats:
        stats.league_table("2019-09", "stalking-and-harassment").to_pandas()
"""

from crimestats.analytics.options import Options
from crimestats.errors import (
    CrimestatsError,
    NoDataError,
    PeriodError,
    SourceError,
    StoreError,
    UnknownAreaError,
    UnknownOffenceError,
)
from crimestats.library import Crimestats, open
from crimestats.results import ForceProfile, Funnel, LeagueTable, PeerComparison, Totals, Trend
from crimestats.store import Store

__all__ = [
    "CrimestatsError",
    "Crimestats",
    "ForceProfile",
    "Funnel",
    "LeagueTable",
    "NoDataError",
    "Options",
    "PeerComparison",
    "PeriodError",
    "SourceError",
    "Store",
    "StoreError",
    "Totals",
    "Trend",
    "UnknownAreaError",
    "UnknownOffenceError",
    "open",
]
__version__ = "0.1.0"
