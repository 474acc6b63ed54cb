"""Request dependencies: the app's shared objects and bearer-token auth."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from detector.api.ingest_pool import IngestPool
from detector.config import Settings
from detector.errors import PayloadTooLargeError
from detector.ingest.service import Ingestor


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    ingestor: Ingestor
    # Where /v1/records and /v1/accounts batches go; None: the request's own thread.
    pool: IngestPool | None = None


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.detector
    return state


State = Annotated[AppState, Depends(get_state)]

_bearer = HTTPBearer(auto_error=False)


def require_token(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Accept only a configured bearer token, compared in constant time."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        given = credentials.credentials.encode()
        for token in state.settings.token_values():
            if hmac.compare_digest(given, token.encode()):
                return
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="a valid bearer token is required (Authorization: Bearer <token>)",
        headers={"WWW-Authenticate": "Bearer"},
    )


Authorized = Depends(require_token)


def bearer_token(request: Request) -> str | None:
    """The request's bearer token (already checked by ``Authorized``), for labelling
    what it sent; never logged or stored as such."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body: {declared} bytes is over the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"body: over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
