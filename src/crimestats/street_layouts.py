"""data.police.uk's three monthly layouts: the columns of each as documented (https://data.police.uk/about/),
with the name and DuckDB type each is stored as, and the store tables that hold them.

Reference data, imported by the store (its tables), the reader (:mod:`crimestats.sources.police_uk`) and the
analytics (:mod:`crimestats.analytics.street`), so it imports nothing.
"""

from __future__ import annotations

__all__ = ["KINDS", "LAYOUTS", "TABLES", "schema"]

KINDS = ("street", "outcomes", "stop-and-search")

#: The columns street crimes and outcomes share: the crime, the month, the force and where it happened.
_LOCATED = (
    ("Crime ID", "crime_id", "VARCHAR"),
    ("Month", "month", "DATE"),
    ("Reported by", "reported_by", "VARCHAR"),
    ("Falls within", "falls_within", "VARCHAR"),
    ("Longitude", "longitude", "DOUBLE"),
    ("Latitude", "latitude", "DOUBLE"),
    ("Location", "location", "VARCHAR"),
    ("LSOA code", "lsoa_code", "VARCHAR"),
    ("LSOA name", "lsoa_name", "VARCHAR"),
)
#: Each layout's columns in the documented order: (header, stored name, DuckDB type).
LAYOUTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "street": (
        *_LOCATED,
        ("Crime type", "crime_type", "VARCHAR"),
        ("Last outcome category", "last_outcome_category", "VARCHAR"),
        ("Context", "context", "VARCHAR"),
    ),
    "outcomes": (*_LOCATED, ("Outcome type", "outcome_type", "VARCHAR")),
    "stop-and-search": (
        ("Type", "type", "VARCHAR"),
        ("Date", "date", "TIMESTAMPTZ"),
        ("Part of a policing operation", "part_of_a_policing_operation", "BOOLEAN"),
        ("Policing operation", "policing_operation", "VARCHAR"),
        ("Latitude", "latitude", "DOUBLE"),
        ("Longitude", "longitude", "DOUBLE"),
        ("Gender", "gender", "VARCHAR"),
        ("Age range", "age_range", "VARCHAR"),
        ("Self-defined ethnicity", "self_defined_ethnicity", "VARCHAR"),
        ("Officer-defined ethnicity", "officer_defined_ethnicity", "VARCHAR"),
        ("Legislation", "legislation", "VARCHAR"),
        ("Object of search", "object_of_search", "VARCHAR"),
        ("Outcome", "outcome", "VARCHAR"),
        ("Outcome linked to object of search", "outcome_linked_to_object_of_search", "BOOLEAN"),
        ("Removal of more than just outer clothing", "removal_of_more_than_just_outer_clothing", "BOOLEAN"),
    ),
}
#: The store table of each kind.
TABLES = {"street": "street_crimes", "outcomes": "street_outcomes", "stop-and-search": "stop_and_search"}


def schema() -> str:
    """The store tables of the monthly files (``police_uk_months``: which file each force-month-kind came from)."""
    tables = [
        f"CREATE TABLE IF NOT EXISTS {TABLES[kind]} (part_id INTEGER, force_code VARCHAR, "
        + ("month DATE, " if kind == "stop-and-search" else "")
        + ", ".join(f"{name} {kind_type}" for _, name, kind_type in LAYOUTS[kind])
        + ");"
        for kind in KINDS
    ]
    return "\n".join(
        [
            "CREATE SEQUENCE IF NOT EXISTS police_uk_part_ids START 1;",
            """CREATE TABLE IF NOT EXISTS police_uk_months (
    part_id INTEGER NOT NULL DEFAULT nextval('police_uk_part_ids'),
    file_id INTEGER NOT NULL,
    member VARCHAR NOT NULL,
    force_code VARCHAR NOT NULL,
    force VARCHAR NOT NULL,
    month DATE NOT NULL,
    kind VARCHAR NOT NULL,
    edition DATE NOT NULL,
    rows BIGINT NOT NULL
);""",
            *tables,
        ]
    )
