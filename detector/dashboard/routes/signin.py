"""Sign-in and sign-out.

The sign-in form is itself CSRF-protected (login CSRF would sign a victim into an
attacker's account): a short-lived pre-session cookie carries a random token, and the
form's hidden field must be its HMAC, as for every form after sign-in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from detector.api.deps import State
from detector.dashboard.auth import Checked, same_origin
from detector.dashboard.passwords import hash_password, verify_password
from detector.dashboard.tokens import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    csrf_for,
    csrf_matches,
    new_token,
    token_hash,
)
from detector.dashboard.web import SECURITY_HEADERS, render
from detector.store.db import write_transaction
from detector.store.reviewers import (
    USERNAME,
    SignInFailures,
    close_session,
    credentials,
    open_session,
    record_sign_in_attempt,
    sign_in_failures,
    sign_in_refused,
    sign_in_succeeded,
)

router = APIRouter(prefix="/dashboard")

# Online guessing is throttled, every limit over the last fifteen minutes of failed
# attempts (each attempt is audited with its client address):
# - ten on one name from one address: the guesser at one address stops there;
# - thirty from one address on any names: spraying names from one address stops too;
# - a hundred on one name from everywhere, except from an address where that name
#   signed in during the last thirty days. A guesser with many addresses stops at
#   it, and cannot lock the reviewer out of the places they work from.
PAIR_FAILURES = 10
ADDRESS_FAILURES = 30
USERNAME_FAILURES = 100
THROTTLE_WINDOW = timedelta(minutes=15)
KNOWN_ADDRESS_DAYS = timedelta(days=30)

# Checked against when the username is unknown, so that a wrong name costs the same
# scrypt time as a wrong password and names cannot be probed by timing.
_DUMMY_HASH = hash_password("not-a-real-password-0")


def safe_next(target: str | None) -> str:
    """Only a path inside the dashboard: never another site (open redirect)."""
    if target and target.startswith("/dashboard") and not target.startswith("//"):
        return target
    return "/dashboard"


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    return _form(request, next_path=safe_next(next))


@router.post("/signin")
def signin(
    request: Request,
    state: State,
    username: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/dashboard",
) -> Response:
    same_origin(request)
    presession = request.cookies.get(PRESESSION_COOKIE, "")
    target = safe_next(next)
    if not presession or not csrf_matches(presession, csrf_token):
        return _form(request, next_path=target, error="The form expired; please sign in again.")
    name = username.strip()
    # Escaped: behind a trusted proxy the address comes from X-Forwarded-For.
    address = ascii(request.client.host if request.client else "unknown")[1:-1][:64]
    now = datetime.now(UTC)
    # A name no reviewer can have (a NUL, which PostgreSQL refuses in a query, or
    # any other character outside USERNAME) is audited escaped and never looked up.
    plain = USERNAME.fullmatch(name) is not None
    logged = name if plain else ascii(name)[1:-1]
    with write_transaction(state.engine) as conn:
        attempt = record_sign_in_attempt(conn, username=logged, address=address, now=now)
    with state.engine.connect() as conn:
        failures = sign_in_failures(
            conn,
            username=logged,
            address=address,
            since=now - THROTTLE_WINDOW,
            known_since=now - KNOWN_ADDRESS_DAYS,
        )
        found = credentials(conn, username=name) if plain else None
    if throttled(failures):
        # Counted while it was in flight; a refused attempt checked no password, so
        # it is not a failure that later attempts count.
        with write_transaction(state.engine) as conn:
            sign_in_refused(conn, attempt_id=attempt)
        message = "Too many failed attempts; try again in 15 minutes."
        return _form(request, next_path=target, error=message, status=429)
    stored = found[1] if found else _DUMMY_HASH
    if not verify_password(password, stored) or found is None:
        return _form(
            request, next_path=target, error="Unknown username or wrong password.", status=401
        )
    reviewer = found[0]
    token = new_token()
    expires = now + timedelta(hours=state.settings.session_hours)
    with write_transaction(state.engine) as conn:
        sign_in_succeeded(conn, attempt_id=attempt)
        open_session(
            conn, reviewer_id=reviewer.id, token_hash=token_hash(token), now=now, expires_at=expires
        )
    response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(state.settings.session_hours * 3600),
        path="/",
        httponly=True,
        secure=state.settings.cookie_secure,
        samesite="lax",
    )
    response.delete_cookie(PRESESSION_COOKIE, path="/dashboard")
    return response


@router.post("/signout")
def signout(state: State, signed: Checked) -> Response:
    with write_transaction(state.engine) as conn:
        close_session(conn, token_hash=token_hash(signed.token))
    response = RedirectResponse("/dashboard/signin", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def throttled(failures: SignInFailures) -> bool:
    """Whether the attempt just recorded (and counted) is one past a limit."""
    return (
        failures.pair > PAIR_FAILURES
        or failures.address > ADDRESS_FAILURES
        or (failures.username > USERNAME_FAILURES and not failures.known_address)
    )


def _form(request: Request, *, next_path: str, error: str = "", status: int = 200) -> Response:
    state = request.app.state.detector
    presession = request.cookies.get(PRESESSION_COOKIE) or new_token()
    response = render(
        "signin.html",
        status_code=status,
        csrf=csrf_for(presession),
        next_path=next_path,
        error=error,
        reviewer=None,
    )
    response.set_cookie(
        PRESESSION_COOKIE,
        presession,
        max_age=3600,
        path="/dashboard",
        httponly=True,
        secure=state.settings.cookie_secure,
        samesite="strict",
    )
    return response
