"""Reference data as Ibis in-memory tables, so analytics can join them on any backend."""

from __future__ import annotations

import functools

import ibis
import ibis.expr.types as ir

from crimestats import reference


@functools.cache
def areas() -> ir.Table:
    """code, name, kind, parent, rate_suppressed."""
    rows = [
        {
            "area_code": a.code,
            "area_name": a.name,
            "kind": a.kind,
            "parent": a.parent,
            "rate_suppressed": a.rate_suppressed,
        }
        for a in reference.areas()
    ]
    return ibis.memtable(
        rows,
        schema={
            "area_code": "string",
            "area_name": "string",
            "kind": "string",
            "parent": "string",
            "rate_suppressed": "string",
        },
    )


@functools.cache
def offence_ancestors() -> ir.Table:
    """offence → every ancestor-or-self: how counts roll up the classification."""
    pairs = reference.offence_ancestors()
    return ibis.memtable(
        {"offence": [p[0] for p in pairs], "ancestor": [p[1] for p in pairs]},
        schema={"offence": "string", "ancestor": "string"},
    )


def offence_parents() -> ir.Table:
    """offence → its parent in the classification (offences with no parent are left out)."""
    pairs = [(o.slug, o.parent) for o in reference.offences() if o.parent is not None]
    return ibis.memtable(
        {"offence": [p[0] for p in pairs], "parent": [p[1] for p in pairs]},
        schema={"offence": "string", "parent": "string"},
    )


@functools.cache
def offences() -> ir.Table:
    """slug, name, level and position in the classification (for ordering)."""
    items = reference.offences()
    return ibis.memtable(
        {
            "offence": [o.slug for o in items],
            "offence_name": [o.name for o in items],
            "level": [o.level for o in items],
            "offence_order": list(range(len(items))),
        },
        schema={"offence": "string", "offence_name": "string", "level": "string", "offence_order": "int64"},
    )


@functools.cache
def total_members() -> ir.Table:
    """(total_code, area_code): which forces make up each region, country and England and Wales.

    England and Wales includes British Transport Police, as in the ONS tables; England and Wales do not.
    """
    parent = {a.code: a.parent for a in reference.areas()}
    rows = []
    for item in reference.areas():
        if item.kind not in ("force", "transport"):
            continue
        node = item.parent
        while node is not None:
            rows.append({"total_code": node, "area_code": item.code})
            node = parent.get(node)
    return ibis.memtable(rows, schema={"total_code": "string", "area_code": "string"})
