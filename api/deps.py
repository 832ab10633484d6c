"""Typed dependencies: settings, the ledger context, the acting user, read transactions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection

from api.context import LedgerContext
from api.security import ServiceStore
from api.settings import Settings
from ledger.actors import Actor

bearer = HTTPBearer(auto_error=False, description="A token from `grantledger token create`")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_context(request: Request) -> LedgerContext:
    context: LedgerContext = request.app.state.context
    return context


def get_store(request: Request) -> ServiceStore:
    store: ServiceStore = request.app.state.store
    return store


def current_actor(
    request: Request,
    store: Annotated[ServiceStore, Depends(get_store)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The user behind the bearer token; 401 without one or with an unknown or revoked one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "send 'Authorization: Bearer <token>'; `grantledger token create` makes one")
    actor = store.actor_for(credentials.credentials)
    if actor is None:
        raise HTTPException(401, "this token is unknown or was revoked; ask for a new one")
    request.state.actor = actor
    return actor


def read_connection(context: Annotated[LedgerContext, Depends(get_context)]) -> Iterator[Connection]:
    """One read transaction over the read models (a consistent view for the whole request)."""
    with context.read_db.reading() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings)]
ContextDep = Annotated[LedgerContext, Depends(get_context)]
ActorDep = Annotated[Actor, Depends(current_actor)]
ReadDep = Annotated[Connection, Depends(read_connection)]
