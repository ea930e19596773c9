"""Property-based tests of the JSON API: schemathesis generates requests from the app's own OpenAPI document.

The app (``crimestats.web.create_app``) runs in process on a copy of the session's store. For every JSON
operation the document describes, schemathesis draws requests that fit it (real slugs and periods mixed with
anything a string may hold) and requests that do not; each response must be below 500, carry a status code,
content type and body the document declares for it. Hypothesis is derandomised, so a run is the same run every
time, and bounded by :data:`EXAMPLES` a mode and an operation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from schemathesis.schemas import APIOperation, BaseSchema
from starlette.types import ASGIApp, Receive, Scope, Send

from conftest import copy_of

EXAMPLES = 90  # a generation mode and an operation
AT_LEAST = 1_000  # generated requests in all
#: Server errors are counted by the test itself: the one 5xx allowed is the documented 503 of a server that has
#: computed its share of option sets (here none: each would take seconds), which schemathesis's own check refuses.
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
BUSY = "other option sets already and keeps no more"


@pytest.fixture(scope="module")
def schema(ingested_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaseSchema]:
    from crimestats.web import create_app

    app = create_app(copy_of(ingested_file, tmp_path_factory.mktemp("api")))
    app.state.site.most_option_sets = 0  # options the store does not keep: the busy answer, not seconds of work
    yield schemathesis.openapi.from_asgi("/openapi.json", without_lifespan(app))
    app.state.site.close()


def without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app, with lifespan events answered but not passed on: schemathesis starts a test client (a startup and
    a shutdown) for every request, and the app closes its store at shutdown, as it should once under uvicorn."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return wrapped


def json_operations(schema: BaseSchema) -> list[APIOperation]:
    """The GET operations that answer in JSON (``.json`` routes and the OpenAPI document itself)."""
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.method.upper() == "GET" and op.path.endswith(".json")]


def run_generated(operation: APIOperation, mode: GenerationMode, record: Callable[[Any], None]) -> None:
    """Send ``EXAMPLES`` requests drawn for ``operation`` in ``mode``, checking each response."""

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def generated(case: schemathesis.Case) -> None:
        response = case.call()
        record(response)
        case.validate_response(response, checks=CHECKS)

    generated()


def test_the_api_describes_every_json_route(schema: BaseSchema) -> None:
    paths = {operation.path for operation in json_operations(schema)}
    assert {
        "/forces/{force}.json",
        "/forces/{force}/{period}.json",
        "/league/{period}/{offence}.json",
        "/compare.json",
        "/search.json",
        "/files.json",
        "/about.json",
        "/index.json",
    } <= paths


#: A real request of each JSON operation (its parameters), answered with real figures.
REAL: dict[str, dict[str, dict[str, str]]] = {
    "/index.json": {"query": {"offence": "burglary"}},
    "/league/{period}/{offence}.json": {"path_parameters": {"period": "2019-09", "offence": "robbery"}},
    "/forces/{force}/{period}.json": {"path_parameters": {"force": "greater-manchester", "period": "2019-09"}},
    "/forces/{force}.json": {"path_parameters": {"force": "wiltshire"}},
    "/compare.json": {"query": {"forces": "wiltshire,dorset"}},
    "/search.json": {"query": {"q": "Swindon"}},
    "/files.json": {},
    "/about.json": {},
}


def test_every_json_route_declares_the_shape_of_its_answer_and_answers_in_it(schema: BaseSchema) -> None:
    """The 200 answer of every JSON route has a schema (crimestats.web.schemas), which real figures fit (with
    nulls for figures not available: Greater Manchester in 2019-09)."""
    for operation in json_operations(schema):
        declared = operation.definition.raw["responses"]["200"]["content"]["application/json"]
        assert declared.get("schema"), f"{operation.path}: no schema for its 200 answer"
        case = operation.Case(**REAL[operation.path])
        response = case.call()
        assert response.status_code == 200, (operation.path, response.text[:200])
        case.validate_response(response, checks=[response_schema_conformance])


def modes(operation: APIOperation) -> list[GenerationMode]:
    """Both generation modes; only the positive one for an operation without parameters (nothing to break)."""
    has_parameters = bool(operation.definition.raw.get("parameters"))
    return list(GenerationMode) if has_parameters else [GenerationMode.POSITIVE]


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(schema: BaseSchema) -> None:
    statuses: list[int] = []
    server_errors: list[str] = []

    def record(response: Any) -> None:
        statuses.append(response.status_code)
        if response.status_code >= 500 and not (response.status_code == 503 and BUSY in response.text):
            server_errors.append(f"{response.status_code} {response.request.url}: {response.text[:200]}")

    for operation in json_operations(schema):
        for mode in modes(operation):
            run_generated(operation, mode, record)
    assert len(statuses) >= AT_LEAST
    assert server_errors == []
    assert {200, 404} <= set(statuses), "the generated requests found neither real data nor unknown names"
