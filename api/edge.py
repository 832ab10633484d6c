"""The edge of every write, before a route reads or validates its body.

Each write route declares the roles that may ever make it (``@allowed(Role.OFFICER)``), and
``GuardedRoute`` checks them first: 401 without a known token, then 403 for a role that may never
make this write, whatever the body (malformed, incomplete, naming unknown ids). Only then is
the body read, once: a JSON body that names a key twice in one object is refused (422, naming
the key), and the same body in canonical form (keys sorted, no layout) keys the
Idempotency-Key record, so the same request laid out differently is the same request. Then
FastAPI validates the body (from the same bytes) and the route runs.

A JSON body is read only up to ``JSON_MAX_BYTES`` (1 MiB, far above any real write): a larger
declared Content-Length is refused with a 413 before a byte is read, and a body sent without one
(chunked) as soon as it grows past the limit; nothing is recorded. FastAPI's own
``max_body_size`` is not used: when Content-Length declares too much, Starlette replaces
whatever the app answers with a plain-text "Content Too Large", not a problem in words.

A write that takes files (``@takes_files``, api.multipart) reads its multipart body only up to
the documents' limit and the room of the form (a 413 past it, before the body is held whole), and
keys the Idempotency-Key record by the form's fields and its files' digests.

A read route may declare its roles too (the downloads do): only the role is checked there.

Which partner an officer may act for depends on the record (the mission's or the claim's
partner): that check stays in the use case, after the lookup.
"""

from __future__ import annotations

import email.message
import json
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.types import Message

from api.deps import bearer, known_actor, token_of
from api.multipart import is_upload, parse_form, read_bounded, read_up_to, size_text
from api.security import ServiceStore
from ledger.actors import Actor, Role
from ledger.errors import InvalidInput, NotAllowed
from ledger.words import any_of

F = TypeVar("F", bound=Callable[..., Any])
Handler = Callable[[Request], Coroutine[Any, Any, Response]]

_ROLES = "__grantledger_roles__"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY = 200
#: What an Idempotency-Key may hold: visible ASCII (0x21-0x7E), 1 to MAX_KEY characters. Starlette
#: reads header bytes as Latin-1, so any byte outside that range (UTF-8 included) fails it too.
_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY}}}")
_AS_STRINGS = 'amounts and rates are decimal strings, e.g. "1234.50"'
_NOTHING = "; nothing was recorded"
#: The most a JSON write's body may hold (README "Security model"). The largest real body, the
#: grant with its six partners' budgets, is under 3 KB; a claim with a hundred lines about 20 KB.
JSON_MAX_BYTES = 1024 * 1024


class KeyReused(InvalidInput):
    title = "Idempotency-Key reused"


def allowed(*roles: Role) -> Callable[[F], F]:
    """Declare the roles that may ever make this write (checked before the body is read)."""
    if not roles:
        raise ValueError("name at least one role")

    def declare(endpoint: F) -> F:
        setattr(endpoint, _ROLES, tuple(roles))
        return endpoint

    return declare


# --- the body, read once ----------------------------------------------------------------------
@dataclass(frozen=True)
class JsonBody:
    """A request body as the edge read it: the bytes that key its idempotency record (the
    canonical JSON when it is JSON, else the raw bytes), and where a key is named twice."""

    digest_bytes: bytes
    duplicate: tuple[str | int, ...] | None = None
    unreadable: str | None = None


def _is_json(content_type: str | None) -> bool:
    """The content types FastAPI reads as JSON (none given counts, as for FastAPI)."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def _path_to(target: object, value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where the object ``target`` sits inside ``value`` (found by identity)."""
    if value is target:
        return path
    items: Any = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _path_to(target, item, (*path, key))
        if found is not None:
            return found
    return None


def read_json_body(raw: bytes, content_type: str | None) -> JsonBody:
    """Parse a body once: its canonical form and the first key named twice in an object. A body
    that is not JSON is left to FastAPI (422, saying where); one that cannot be read at all
    (not UTF-8, nested too deeply, a number too long) says why, for a 400."""
    if not raw or not _is_json(content_type):
        return JsonBody(raw)
    twice: list[tuple[dict[str, Any], str]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        for key, item in items:
            if key in obj and not twice:
                twice.append((obj, key))
            obj[key] = item
        return obj

    try:
        value = json.loads(raw, object_pairs_hook=pairs)
        # surrogatepass: a lone surrogate written as an escape (\ud800) is valid JSON; the field
        # that holds it is refused later, by name (ledger.text), like any character it refuses
        canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )
    except json.JSONDecodeError:  # FastAPI answers 422, saying where
        return JsonBody(raw)
    except UnicodeDecodeError:
        return JsonBody(raw, unreadable=f"the body is not UTF-8 text; send the JSON encoded as UTF-8{_NOTHING}")
    except RecursionError:
        return JsonBody(
            raw, unreadable=f"the body nests lists or objects too deeply; send the object shown in /docs{_NOTHING}"
        )
    except ValueError:  # an integer past Python's digit limit
        return JsonBody(raw, unreadable=f"a number in the body has too many digits; {_AS_STRINGS}{_NOTHING}")
    if twice:
        obj, key = twice[0]
        return JsonBody(canonical, (*(_path_to(obj, value) or ()), key))
    return JsonBody(canonical)


def _refuse_duplicate(location: tuple[str | int, ...]) -> RequestValidationError:
    key = location[-1]
    return RequestValidationError(
        [
            {
                "type": "duplicate_key",
                "loc": ("body", *location),
                "msg": f"the body names {key!r} twice in one object; give each field once",
                "input": key,
            }
        ]
    )


def json_too_large(limit: int, declared: int | None) -> HTTPException:
    """413: a JSON body larger than ``limit`` (what it declared, when it did)."""
    sent = "this request's body is" if declared is None else f"this request declares a body of {size_text(declared)}"
    return HTTPException(
        413,
        f"{sent} larger than the {size_text(limit)} a JSON body may hold; nothing was read further and nothing "
        "was recorded. Send only the fields the object in /docs names (a real body is a few KB); split a claim "
        "with very many expense lines into several claims",
    )


TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"description": f"The body is larger than {size_text(JSON_MAX_BYTES)}; nothing was read further or recorded"}
}


def _replaying(request: Request, raw: bytes) -> Request:
    """The request again, its body ``raw`` (already read): for FastAPI to validate from the
    same bytes. Its state (the actor) is shared; later messages (a disconnect) pass through."""
    replayed = False

    async def receive() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await request.receive()

    return Request(request.scope, receive)


# --- the route class --------------------------------------------------------------------------
class GuardedRoute(APIRoute):
    """A route whose writes check the caller's role before anything else (see the module)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        roles: tuple[Role, ...] | None = getattr(endpoint, _ROLES, None)
        methods = {m.upper() for m in kwargs.get("methods") or ()}
        if methods & WRITES and not roles:
            raise TypeError(f"the write {path} must declare who may make it: @allowed(Role.OFFICER, ...)")
        self.roles = roles or ()
        self.takes_files = is_upload(endpoint)
        if roles:
            extra = dict(kwargs.get("openapi_extra") or {})
            extra["x-allowed-roles"] = [role.value for role in roles]
            kwargs["openapi_extra"] = extra
        if methods & WRITES and not self.takes_files:
            kwargs["responses"] = {**TOO_LARGE, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if not self.roles:
            return handler
        roles = self.roles
        takes_files = self.takes_files
        summary = self.summary or self.name.replace("_", " ")
        action = summary[:1].lower() + summary[1:]

        async def guarded(request: Request) -> Response:
            actor = await _actor(request)
            if actor.role not in {role.value for role in roles}:
                who = any_of(role.value for role in roles)
                raise NotAllowed(f"{actor.describe()} may not {action}: only {who} may")
            if request.method not in WRITES:  # a read (a download) has no body and no Idempotency-Key
                return await handler(request)
            if takes_files:
                body = await _read_form(request)
            else:
                raw = await read_up_to(request, JSON_MAX_BYTES, json_too_large)
                request = _replaying(request, raw)
                body = read_json_body(raw, request.headers.get("content-type"))
            if body.unreadable is not None:
                raise HTTPException(400, body.unreadable)
            if body.duplicate is not None:
                raise _refuse_duplicate(body.duplicate)
            return await _idempotent(request, actor, body, handler)

        return guarded


async def _read_form(request: Request) -> JsonBody:
    """A route that takes files: the body read only up to the documents' limit (413 past it),
    parsed once (kept for the route), keyed by its canonical form (api.multipart)."""
    max_bytes: int = request.app.state.context.app.document_max_bytes
    raw = await read_bounded(request, max_bytes)
    form = await run_in_threadpool(parse_form, request.headers.get("content-type"), raw)  # off the event loop
    request.state.posted_form = form
    return JsonBody(form.canonical())


async def _actor(request: Request) -> Actor:
    """The caller, from the bearer token (401 without one, or with an unknown, revoked or expired one);
    kept on the request for the route's own ActorDep."""
    known: Actor | None = getattr(request.state, "actor", None)
    if known is not None:
        return known
    token = token_of(await bearer(request))
    store: ServiceStore = request.app.state.store
    actor = known_actor(await run_in_threadpool(store.actor_for, token))
    request.state.actor = actor
    return actor


async def _idempotent(request: Request, actor: Actor, body: JsonBody, handler: Handler) -> Response:
    """Same Idempotency-Key and same request: the first response again, nothing recorded. Same
    key with another request: refused (422). Keys are per user and survive restarts."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return await handler(request)
    if not _KEY.fullmatch(key):
        raise InvalidInput(
            f"the Idempotency-Key header must be 1 to {MAX_KEY} visible ASCII characters (letters, digits and "
            "punctuation, no spaces, control or other characters), e.g. a UUID; this one is not"
        )
    store: ServiceStore = request.app.state.store
    digest = store.request_hash(request.method, request.url.path, body.digest_bytes)
    first = await run_in_threadpool(store.recall, actor.id, key)
    if first is not None:
        if first.request_hash != digest:
            raise KeyReused(
                f"the Idempotency-Key {key!r} was first used for a different request; "
                "use a new key for a new request, or repeat the first one exactly"
            )
        return Response(
            first.body, status_code=first.status, media_type="application/json", headers={"Idempotent-Replayed": "true"}
        )
    response = await handler(request)
    content = getattr(response, "body", None)
    if 200 <= response.status_code < 300 and isinstance(content, bytes):
        await run_in_threadpool(store.remember, actor.id, key, digest, response.status_code, content.decode())
    return response
