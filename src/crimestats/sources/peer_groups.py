"""Home Office "most similar groups" (MSG) supplied by the user as a CSV file.

The Home Office groups each force with up to seven forces that are most similar to it on demographic,
social and economic characteristics linked to crime (HMICFRS / Home Office "Most similar groups"
methodology). crimestats ships no membership: the user supplies the current list as a CSV with the header
``force,peer`` and one row per (force, group member) pair, forces named by name, alias or ONS code. Groups
are not symmetric: Wiltshire's group may include a force whose own group does not include Wiltshire.

This file is not stored: it is read when a command is given ``--msg FILE``.
"""

from __future__ import annotations

from pathlib import Path

from crimestats import reference
from crimestats.errors import SourceError
from crimestats.sources._base import Sheet, read_csv

__all__ = ["MAX_MEMBERS", "PeerGroups", "read_peer_groups"]

#: The Home Office most similar groups have at most seven members besides the force itself.
MAX_MEMBERS = reference.MOST_SIMILAR_GROUP_SIZE

#: force code → the codes of its group members (not including the force itself), in file order.
PeerGroups = dict[str, tuple[str, ...]]


def read_peer_groups(path: Path) -> PeerGroups:
    """Read a ``force,peer`` CSV; every cell must name one of the 43 territorial forces."""
    if not path.is_file():
        raise SourceError("no such file", file=str(path))
    sheet = read_csv(path)
    header = [h.lower() for h in sheet.headings(0)] if sheet.rows else []
    if header[:2] != ["force", "peer"]:
        raise sheet.error(f"the header must be 'force,peer' (found: {','.join(header) or 'nothing'})", 0)
    groups: dict[str, list[str]] = {}
    for index in range(1, len(sheet.rows)):
        if not any(cell.strip() for cell in sheet.rows[index]):
            continue
        sheet.require_width(index, 2)
        force, peer = (_force(sheet, index, column) for column in (0, 1))
        members = groups.setdefault(force, [])
        if peer == force:
            raise sheet.error(f"{reference.area(force).name} is listed as its own peer", index, 1)
        if peer in members:
            raise sheet.error(f"{reference.area(peer).name} is listed twice in one group", index, 1)
        members.append(peer)
        if len(members) > MAX_MEMBERS:
            raise sheet.error(f"more than {MAX_MEMBERS} peers for {reference.area(force).name}", index, 1)
    if not groups:
        raise sheet.error("no rows below the header", 1)
    return {force: tuple(members) for force, members in groups.items()}


def _force(sheet: Sheet, index: int, column: int) -> str:
    text = sheet.text(index, column)
    area = reference.find_area(text)
    if area is None or area.kind != "force":
        raise sheet.error(f"{text!r} is not one of the 43 territorial police forces", index, column)
    return area.code
