"""Readers for the official file families, recognised by content rather than file name.

Each reader is a ``(name, recognise, read)`` entry in :data:`READERS`; adding a source is adding a module
and a line here. :func:`read_file` finds the reader for a file and returns its :class:`Batch`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crimestats.errors import SourceError, UnrecognisedFileError
from crimestats.sources import boundaries, home_office, ons_csp, ons_pfa, population
from crimestats.sources._base import Batch, Probe

__all__ = ["READERS", "Batch", "Reader", "read_file", "recognise"]


@dataclass(frozen=True)
class Reader:
    """One official file family: how to recognise its files and how to read them."""

    name: str
    description: str
    recognise: Callable[[Probe], bool]
    read: Callable[[Path], Batch]


READERS: tuple[Reader, ...] = (
    Reader(ons_pfa.NAME, "ONS police force area data tables (P1-P3)", ons_pfa.recognise, ons_pfa.read),
    Reader(ons_csp.NAME, "ONS community safety partnership table (C2)", ons_csp.recognise, ons_csp.read),
    Reader(home_office.NAME, "Home Office police recorded crime open data", home_office.recognise, home_office.read),
    Reader(population.MYE, "ONS mid-year population estimates (MYE4)", population.recognise_mye, population.read_mye),
    Reader(population.LOOKUP, "ONS LA → CSP → PFA lookup", population.recognise_lookup, population.read_lookup),
    Reader(boundaries.NAME, "ONS police force area boundaries (GeoJSON)", boundaries.recognise, boundaries.read),
)


def recognise(path: Path) -> Reader | None:
    """The reader for a file, or None if it is none of the families crimestats reads."""
    probe = Probe.of(path)
    return next((reader for reader in READERS if reader.recognise(probe)), None)


def read_file(path: Path) -> Batch:
    """Read one file with the reader its content calls for; :class:`UnrecognisedFileError` if none."""
    reader = recognise(path)
    if reader is None:
        raise UnrecognisedFileError(
            "not a file crimestats recognises (expected one of: " + "; ".join(r.description for r in READERS) + ")",
            file=path.name,
        )
    try:
        return reader.read(path)
    except SourceError:
        raise
    except (ValueError, KeyError, IndexError, OSError) as exc:
        raise SourceError(f"could not be read as {reader.description}: {exc}", file=path.name) from exc
