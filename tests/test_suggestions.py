"""Did you mean: a mistyped force or offence is answered with the nearest names, in one line."""

from __future__ import annotations

import pytest

import crimestats
from crimestats import reference
from crimestats.errors import UnknownAreaError, UnknownOffenceError
from crimestats.store import Store
from test_cli import run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["force", "Wiltshre", "-p", "2019-09"], "unknown force or area 'Wiltshre' (did you mean Wiltshire?)"),
        (
            ["findings", "Glostershire", "-p", "2019-09"],
            "unknown force or area 'Glostershire' (did you mean Gloucestershire or Leicestershire?)",
        ),
        (["peers", "Nothumbria", "-p", "2019-09"], "(did you mean Northumbria?)"),
        (
            ["table", "-p", "2019-09", "-o", "burglery"],
            "unknown offence 'burglery' (did you mean burglary? `crimestats offences` lists them all)",
        ),
        (
            ["table", "-p", "2019-09", "-o", "stalking"],
            "unknown offence 'stalking' (did you mean stalking-and-harassment?",
        ),
        (["trend", "Wiltshire", "-o", "robery"], "(did you mean robbery?"),
        (["force", "Atlantis", "-p", "2019-09"], "unknown force or area 'Atlantis' (try a name like 'Wiltshire'"),
        (["table", "-p", "2019-09", "-o", "jaywalking"], "unknown offence 'jaywalking' (see `crimestats offences`"),
    ],
)
def test_a_mistyped_name_gets_the_nearest_names(cli_store: Store, args: list[str], message: str) -> None:
    code, _, err = run(cli_store, *args)
    assert code == 1 and err.startswith("error: unknown ") and message in err and len(err.strip().splitlines()) == 1


def test_every_suggestion_is_a_name_the_tools_accept() -> None:
    for name in reference.suggest_areas("Yorkshire", reference.forces()):
        assert reference.area(name).kind == "force"
    for slug in reference.suggest_offences("theft"):
        assert reference.offence(slug).slug == slug


def test_the_library_suggests_too(cli_store: Store) -> None:
    with crimestats.open(cli_store.path) as stats:
        with pytest.raises(UnknownAreaError, match=r"did you mean Wiltshire\?"):
            stats.force("Wiltshre", "2019-09")
        with pytest.raises(UnknownOffenceError, match=r"did you mean burglary\?"):
            stats.league_table("2019-09", "burglery")
