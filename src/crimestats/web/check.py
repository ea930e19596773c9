"""``/check``: a story's numbers checked claim by claim, as ``crimestats check`` checks them.

``GET /check`` is a form; ``POST /check`` (the form, ``application/x-www-form-urlencoded``, no JavaScript
needed) renders the story with each claim marked and a numbered note under each paragraph; ``POST /check.json``
takes ``{"text": "…", "today": "YYYY-MM-DD"}`` and answers exactly what ``crimestats check FILE --format json``
prints for the same text. A story is read whole before it is checked, and at most :data:`LARGEST` bytes of it:
a larger one is 413, one that is not UTF-8 (or not a JSON object of that shape) 400, in the one error shape.
Nothing is kept: a story is checked and forgotten.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import urllib.parse
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from crimestats._json import json_depth
from crimestats.check import CheckResult, check_text, story_text
from crimestats.documents import to_json
from crimestats.errors import CrimestatsError
from crimestats.web import pages
from crimestats.web.app import Site

__all__ = ["LARGEST", "router"]

router = APIRouter()

#: The largest story checked, in bytes of the request body (a long feature is some 30 KB of text).
LARGEST = 200_000
#: How deeply the JSON of a request may nest (it is an object of two strings).
DEEPEST = 4

_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["text"],
                "properties": {
                    "text": {"type": "string", "description": "The story: plain text, Markdown or HTML."},
                    "today": {
                        "type": "string",
                        "format": "date",
                        "description": "The day the story was published (for 'last year'); default its dateline.",
                    },
                },
            }
        }
    },
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Each claim with its verdict, and a summary.", "content": {"application/json": {}}},
    400: {"description": "Not UTF-8, not JSON, or not an object with the story as `text`."},
    413: {"description": f"A story over {LARGEST // 1000} KB."},
}


async def _body(request: Request) -> bytes:
    """The request body, read up to :data:`LARGEST` bytes: 413 beyond."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > LARGEST:
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > LARGEST:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> HTTPException:
    return HTTPException(413, f"a story of at most {LARGEST // 1000} KB is checked: send a shorter text")


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CrimestatsError(f"the story is not UTF-8 text (byte {error.start})") from error


def _today(value: Any) -> dt.date | None:
    """``today`` as a date: None when not given, else ``YYYY-MM-DD`` or a CrimestatsError (400)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    shown = json.dumps(value, ensure_ascii=False)[:40]
    raise CrimestatsError(f"today {shown} is not a date written YYYY-MM-DD, e.g. 2019-10-17")


def _story_json(data: bytes) -> tuple[str, dt.date | None]:
    """(text, today) from a ``POST /check.json`` body."""
    text = _utf8(data)
    if json_depth(data) > DEEPEST:
        raise CrimestatsError('send a JSON object: {"text": "the story", "today": "YYYY-MM-DD"}')
    try:
        sent = json.loads(text)
    except ValueError as error:
        raise CrimestatsError(f"the body is not JSON ({error})") from error
    if not isinstance(sent, dict) or not isinstance(sent.get("text"), str) or set(sent) - {"text", "today"}:
        raise CrimestatsError('send a JSON object: {"text": "the story", "today": "YYYY-MM-DD"} (today optional)')
    return sent["text"], _today(sent.get("today"))


def _story_form(data: bytes) -> tuple[str, dt.date | None]:
    """(text, today) from the form of ``/check``."""
    try:
        fields = urllib.parse.parse_qs(_utf8(data), encoding="utf-8", errors="strict", max_num_fields=4)
    except UnicodeDecodeError as error:
        raise CrimestatsError("the story is not UTF-8 text") from error
    except ValueError as error:
        raise CrimestatsError("send the form's fields: text and, if you like, today") from error
    return fields.get("text", [""])[0], _today(fields.get("today", [""])[0])


def _checked(request: Request, text: str, today: dt.date | None) -> CheckResult:
    site: Site = request.app.state.site
    story = story_text(text)
    result: CheckResult = site.read(lambda store: check_text(store, story, today))
    return result


@router.post(
    "/check.json",
    summary="Check a story's numbers",
    description=(
        "Every statistical claim about police recorded crime in the story (rates, counts, league positions, "
        "changes, comparisons with an average), each with the force, offence and period it is about and its "
        "verdict: correct, incorrect, needs context or cannot check, with the published figure and its source. "
        "Exactly what `crimestats check FILE --format json` prints for the same text. HTML is stripped first; "
        f"at most {LARGEST // 1000} KB."
    ),
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses=_RESPONSES,
)
async def check_json(request: Request) -> Response:
    text, today = _story_json(await _body(request))
    result = _checked(request, text, today)
    return Response(to_json(result.to_dict()) + "\n", media_type="application/json")


@router.get("/check", include_in_schema=False)
def check_form() -> Response:
    """The form: paste a story, see it checked."""
    return HTMLResponse(pages.check_page(None, "", None))


@router.post("/check", include_in_schema=False)
async def check_story(request: Request) -> Response:
    """The form sent: the story annotated claim by claim, under the form holding it."""
    text, today = _story_form(await _body(request))
    return HTMLResponse(pages.check_page(_checked(request, text, today) if text.strip() else None, text, today))
