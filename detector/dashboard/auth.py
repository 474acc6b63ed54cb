"""Who is signed in, and the CSRF check every form post passes.

Pages without a live session redirect to the sign-in page; any other method gets 401.
Form posts need the session's CSRF token in the ``csrf_token`` field, and a request
that names a foreign ``Origin`` is refused before that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Form, HTTPException, Request

from detector.api.deps import State
from detector.dashboard.tokens import SESSION_COOKIE, csrf_for, csrf_matches, token_hash
from detector.store.reviewers import Reviewer, session_reviewer


class SignInRequired(Exception):
    """No live session: the handler redirects pages and refuses everything else."""


@dataclass(frozen=True, slots=True)
class Signed:
    reviewer: Reviewer
    token: str

    @property
    def csrf(self) -> str:
        return csrf_for(self.token)


def signed_in(request: Request, state: State) -> Signed:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with state.engine.connect() as conn:
            reviewer = session_reviewer(conn, token_hash=token_hash(token), now=datetime.now(UTC))
        if reviewer is not None:
            return Signed(reviewer=reviewer, token=token)
    raise SignInRequired


SignedIn = Annotated[Signed, Depends(signed_in)]


def same_origin(request: Request) -> None:
    """Refuse a request whose Origin header names another site."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(status_code=403, detail=f"origin: {origin!r} is not this site")


def checked(request: Request, signed: SignedIn, csrf_token: Annotated[str, Form()] = "") -> Signed:
    """The signed-in reviewer of a form post whose CSRF token matches the session."""
    same_origin(request)
    if not csrf_matches(signed.token, csrf_token):
        raise HTTPException(
            status_code=403, detail="csrf_token: missing or does not match this session"
        )
    return signed


Checked = Annotated[Signed, Depends(checked)]
