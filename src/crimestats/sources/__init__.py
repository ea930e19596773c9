"""Readers for the official file families, recognised by content rather than file name.

Each reader is a ``(name, recognise, read)`` entry in :data:`READERS`; adding a source is adding a module
and a line here. :func:`read_file` finds the reader for a file and returns its :class:`Batch`.

A file is probed once (:class:`Probe`): the recognisers look at the probe, and the reader that recognises
the file reads it through the same probe, so no workbook sheet is parsed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crimestats.errors import SourceError, UnrecognisedFileError
from crimestats.sources import boundaries, home_office, ons_csp, ons_pfa, police_uk, population
from crimestats.sources._base import Batch, Probe, parser_failure

__all__ = [
    "READERS",
    "Batch",
    "Probe",
    "Reader",
    "parser_failure",
    "read_failure",
    "read_file",
    "recognise",
    "recognise_probe",
]


@dataclass(frozen=True)
class Reader:
    """One official file family: how to recognise its files and how to read them."""

    name: str
    description: str
    recognise: Callable[[Probe], bool]
    read: Callable[[Path | Probe], Batch]


READERS: tuple[Reader, ...] = (
    Reader(ons_pfa.NAME, "ONS police force area data tables (P1-P3)", ons_pfa.recognise, ons_pfa.read),
    Reader(ons_csp.NAME, "ONS community safety partnership table (C2)", ons_csp.recognise, ons_csp.read),
    Reader(home_office.NAME, "Home Office police recorded crime open data", home_office.recognise, home_office.read),
    Reader(population.MYE, "ONS mid-year population estimates (MYE4)", population.recognise_mye, population.read_mye),
    Reader(population.LOOKUP, "ONS LA → CSP → PFA lookup", population.recognise_lookup, population.read_lookup),
    Reader(boundaries.NAME, "ONS police force area boundaries (GeoJSON)", boundaries.recognise, boundaries.read),
    Reader(
        police_uk.NAME,
        "data.police.uk street-level crimes, outcomes or stop-and-search (a monthly CSV or archive zip)",
        police_uk.recognise,
        police_uk.read,
    ),
)

# The order readers are asked in. A workbook whose sheet names say what it is (ONS Tables P1-P3, MYE4) is
# recognised by them before any reader looks for a header row: looking for one parses every sheet.
_ASKED = sorted(READERS, key=lambda reader: reader.name not in (ons_pfa.NAME, population.MYE))


def recognise(path: Path) -> Reader | None:
    """The reader for a file, or None if it is none of the families crimestats reads."""
    return recognise_probe(Probe.of(path))


def recognise_probe(probe: Probe) -> Reader | None:
    """The reader for a probed file, or None."""
    return next((reader for reader in _ASKED if reader.recognise(probe)), None)


def read_file(path: Path, probe: Probe | None = None, reader: Reader | None = None) -> Batch:
    """Read one file with the reader its content calls for; :class:`UnrecognisedFileError` if none.

    ``probe`` and ``reader`` pass on a recognition already made (:func:`recognise_probe`), so the file is
    not probed again.
    """
    probe = probe if probe is not None else Probe.of(path)
    reader = reader if reader is not None else recognise_probe(probe)
    if reader is None:
        raise UnrecognisedFileError(
            "not a file crimestats recognises (expected one of: " + "; ".join(r.description for r in READERS) + ")",
            file=path.name,
        )
    try:
        return reader.read(probe)
    except SourceError:
        raise
    except BaseException as exc:  # a reader's or parser's own failure on a file it could not make sense of
        if not parser_failure(exc):
            raise
        raise read_failure(path, exc, f"could not be read as {reader.description}") from exc


def read_failure(path: Path, exc: BaseException, what: str = "could not be read") -> SourceError:
    """A failure no check foresaw, as the file's one-line :class:`SourceError`."""
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return SourceError(f"{what}: {detail}", file=path.name)
