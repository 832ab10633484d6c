"""Typed dependencies: settings, the ledger context, the acting user, read transactions."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection

from api.context import LedgerContext
from api.security import ServiceStore
from api.settings import Settings
from ledger.actors import Actor

T = TypeVar("T")

bearer = HTTPBearer(auto_error=False, description="A token from `grantledger token create`")


# The three getters below only read the app's state: ``async`` keeps FastAPI from sending
# each of them to the thread pool (a hop that costs more than the getter itself).
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_context(request: Request) -> LedgerContext:
    context: LedgerContext = request.app.state.context
    return context


async def get_store(request: Request) -> ServiceStore:
    store: ServiceStore = request.app.state.store
    return store


def token_of(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "send 'Authorization: Bearer <token>'; `grantledger token create` makes one")
    return credentials.credentials


def known_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise HTTPException(401, "this token is unknown or was revoked; ask for a new one")
    return actor


async def current_actor(
    request: Request,
    store: Annotated[ServiceStore, Depends(get_store)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The user behind the bearer token; 401 without one or with an unknown, revoked or expired one.

    A read request's token was already checked in its read transaction (``read_connection``);
    otherwise it is looked up here, in the thread pool (it reads the database)."""
    known: Actor | None = getattr(request.state, "actor", None)
    if known is not None:
        return known
    token = token_of(credentials)
    actor = known_actor(await run_in_threadpool(store.actor_for, token))
    request.state.actor = actor
    return actor


def read_connection(
    request: Request,
    context: Annotated[LedgerContext, Depends(get_context)],
    store: Annotated[ServiceStore, Depends(get_store)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Iterator[Connection]:
    """One read transaction over the read models (a consistent view for the whole request).

    The token is checked inside it (401 otherwise): one connection and one trip to the thread
    pool for both. Holding a read connection while waiting for a second one for the token,
    as every concurrent request would, could starve the connection pool under load."""
    token = token_of(credentials)
    with context.read_db.reading() as conn:
        if getattr(request.state, "actor", None) is None:
            request.state.actor = known_actor(store.actor_for(token, conn))
        yield conn


class Reader:
    """One read of the read models in a single trip to a worker thread: ``await read(fn)``
    checks the token (401) and calls ``fn(conn, position)`` in the same read transaction and
    thread, with the read models' position in that transaction (read with the token).

    For hot read routes. A sync route with ReadDep makes three trips (open the transaction and
    check the token, run the route, close it), and on a busy server each trip costs more than
    a small read (``python -m bench --only http`` measures it). As with ReadDep a missing token
    is refused before the query string is checked; an unknown, revoked or expired one only when the
    read runs, so a request with such a token and an invalid query string gets the 422."""

    def __init__(self, request: Request, context: LedgerContext, store: ServiceStore, token: str) -> None:
        self.request = request
        self.context = context
        self.store = store
        self.token = token

    async def __call__(self, read: Callable[[Connection, int], T]) -> T:
        # asyncio's executor, not anyio's (run_in_threadpool): per call anyio does more (a cancel
        # scope, a capacity limiter, context lookups) than a short read costs. The context is
        # copied as anyio would, for whatever the read logs or traces.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, contextvars.copy_context().run, self._read, read)

    def _read(self, read: Callable[[Connection, int], T]) -> T:
        with self.context.read_db.reading() as conn:
            position, actor = self.store.position_and_actor(self.token, conn)
            self.request.state.actor = known_actor(actor)
            return read(conn, position)


async def reader(
    request: Request,
    context: Annotated[LedgerContext, Depends(get_context)],
    store: Annotated[ServiceStore, Depends(get_store)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Reader:
    """A Reader for this request; 401 at once without a bearer token."""
    return Reader(request, context, store, token_of(credentials))


SettingsDep = Annotated[Settings, Depends(get_settings)]
ContextDep = Annotated[LedgerContext, Depends(get_context)]
ActorDep = Annotated[Actor, Depends(current_actor)]
ReadDep = Annotated[Connection, Depends(read_connection)]
ReaderDep = Annotated[Reader, Depends(reader)]
