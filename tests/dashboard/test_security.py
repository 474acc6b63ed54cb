"""Nothing is visible without a session or token; every form needs its CSRF token;
what a log sender wrote is shown as text."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.routing import Mount

from detector.api.app import create_app
from detector.config import Settings
from detector.store.db import write_transaction
from tests.dashboard.conftest import csrf_of, sign_in
from tests.dashboard.seeding import add_test_reviewer, seed_case
from tests.support.server import LiveServer

pytestmark = pytest.mark.db

# The only things anyone may see without credentials (the stylesheet is not data).
OPEN = {"/healthz", "/readyz", "/dashboard/signin", "/", "/docs", "/openapi.json"}
# Paths that serve something to anyone on purpose: /metrics ("may be" open by the
# contract) and the static assets of the sign-in page.
PUBLIC_PREFIXES = ("/metrics", "/dashboard/static")

XSS = "<script>alert(1)</script>"


def every_route(settings: Settings) -> list[tuple[str, str]]:
    """(method, path) of every route of the real app, path parameters filled in, so a
    route added later is checked without this test changing."""
    app = create_app(settings)
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        # FastAPI >= 0.120 wraps included routers; older versions list APIRoutes.
        contexts = getattr(route, "effective_route_contexts", None)
        pairs = (
            [(c.path, c.methods) for c in contexts()]
            if contexts is not None
            else [(route.path, route.methods)]
            if isinstance(route, APIRoute)
            else []
        )
        for raw, methods in pairs:
            path = re.sub(r"\{[^}]+\}", "c1", raw)
            found.extend((method, path) for method in sorted(set(methods or ()) - {"HEAD"}))
    return found


def test_every_page_and_endpoint_refuses_without_credentials(
    live: LiveServer, settings: Settings, seeded: Callable[..., None]
) -> None:
    seeded(seed_case, "c1", score=0.9, account_ids=["secret-account"])
    routes = every_route(settings)
    assert ("GET", "/dashboard/cases/c1") in routes and ("GET", "/v1/blocklist") in routes
    checked = 0
    with httpx.Client(base_url=live.url, timeout=30, follow_redirects=False) as anonymous:
        for method, path in routes:
            if path in OPEN or path.startswith(PUBLIC_PREFIXES):
                continue
            answer = anonymous.request(method, path)
            checked += 1
            assert answer.status_code in (303, 401, 403), (method, path, answer.status_code)
            assert "secret-account" not in answer.text, (method, path)
            if answer.status_code == 303:
                assert answer.headers["location"].startswith("/dashboard/signin"), path
    assert checked >= 12
    with httpx.Client(base_url=live.url, timeout=30) as anonymous:
        # The API's description is open like /healthz; it holds no data.
        assert anonymous.get("/redoc").status_code == 404
        for path in ("/docs", "/openapi.json"):
            assert anonymous.get(path).status_code == 200, path
        # A token is not a session: the dashboard wants a signed-in reviewer.
        tokened = anonymous.get(
            "/dashboard/cases/c1",
            headers={"Authorization": f"Bearer {live.token}"},
            follow_redirects=False,
        )
        assert tokened.status_code == 303


def test_a_wrong_password_or_unknown_name_gets_no_session(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        page = client.get("/dashboard/signin")
        for username, password in (("alice", "wrong-password-1"), ("mallory", "whatever-123")):
            answer = client.post(
                "/dashboard/signin",
                data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
            )
            assert answer.status_code == 401
            assert "detector_session" not in client.cookies
            assert "Unknown username or wrong password" in answer.text


def test_sign_in_needs_its_csrf_token_and_never_redirects_off_site(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url, timeout=30, follow_redirects=False) as client:
        client.get("/dashboard/signin")
        forged = client.post(
            "/dashboard/signin",
            data={"username": "alice", "password": "correct-horse-battery", "csrf_token": "x"},
        )
        assert forged.status_code == 200 and "form expired" in forged.text
        assert "detector_session" not in client.cookies
        page = client.get("/dashboard/signin?next=//evil.example/")
        answer = client.post(
            "/dashboard/signin",
            data={
                "username": "alice",
                "password": "correct-horse-battery",
                "csrf_token": csrf_of(page.text),
                "next": "https://evil.example/",
            },
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/dashboard"


def test_every_form_post_needs_the_sessions_csrf_token(
    live: LiveServer, browser_client: httpx.Client, seeded: Callable[..., None]
) -> None:
    seeded(seed_case, "c1", score=0.9, account_ids=["a1", "a2"])
    csrf = csrf_of(browser_client.get("/dashboard/cases/c1").text)
    forms = {
        "/dashboard/cases/c1/decisions": {"action": "block", "note": "n"},
        "/dashboard/cases/c1/snooze": {"until": "2999-01-01"},
        "/dashboard/cases/c1/reopen": {"note": "n"},
        "/dashboard/signout": {},
    }
    for path, data in forms.items():
        for token in (None, "", "0" * 64, csrf_of_other_session(live)):
            fields = dict(data) if token is None else {**data, "csrf_token": token}
            answer = browser_client.post(path, data=fields)
            assert answer.status_code == 403, (path, token)
            assert "csrf_token" in answer.text
        # The right token, but sent from another site's page.
        cross = browser_client.post(
            path, data={**data, "csrf_token": csrf}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403, path
    # Nothing of the refused posts happened.
    page = browser_client.get("/dashboard/cases/c1").text
    assert 'id="case-status">open<' in page and "No decision yet" in page
    done = browser_client.post(
        "/dashboard/cases/c1/decisions", data={"action": "block", "csrf_token": csrf}
    )
    assert done.status_code == 303


def csrf_of_other_session(live: LiveServer) -> str:
    """A valid CSRF token, but of another reviewer's session."""
    other = sign_in(live.url)
    try:
        return csrf_of(other.get("/dashboard").text)
    finally:
        other.close()


def test_sign_out_ends_the_session(browser_client: httpx.Client) -> None:
    page = browser_client.get("/dashboard")
    assert page.status_code == 200
    cookie = browser_client.cookies["detector_session"]
    answer = browser_client.post("/dashboard/signout", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303
    # The old cookie, replayed, no longer signs anyone in.
    replay = httpx.get(
        str(browser_client.base_url.join("/dashboard")),
        cookies={"detector_session": cookie},
        follow_redirects=False,
    )
    assert replay.status_code == 303


def test_a_hostile_account_id_shows_as_text(
    browser_client: httpx.Client, seeded: Callable[..., None], live: LiveServer
) -> None:
    seeded(
        seed_case,
        "c1",
        score=0.9,
        account_ids=[XSS, "plain"],
        reasons=[f"account {XSS} leads the burst"],
    )
    page = browser_client.get("/dashboard/cases/c1")
    assert page.status_code == 200
    assert XSS not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    search = browser_client.get("/dashboard/cases/c1", params={"q": XSS})
    assert XSS not in search.text and "1 matching" in search.text
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {live.token}"}) as api:
        api.post("/v1/cases/c1/decisions", json={"action": "block"}).raise_for_status()
        csv = api.get("/v1/blocklist", params={"format": "csv"}).text
    assert XSS in csv  # CSV is data, not markup; it is not HTML-escaped
    blocklist = browser_client.get("/dashboard/blocklist").text
    assert XSS not in blocklist and "&lt;script&gt;" in blocklist


def test_guessing_is_throttled_per_username_and_audited(live: LiveServer, engine: Engine) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        csrf = csrf_of(client.get("/dashboard/signin").text)

        def attempt(password: str) -> httpx.Response:
            return client.post(
                "/dashboard/signin",
                data={"username": "alice", "password": password, "csrf_token": csrf},
                follow_redirects=False,
            )

        codes = [attempt(f"guess-number-{i}").status_code for i in range(10)]
        assert codes == [401] * 10
        # Even the right password is refused while the window lasts.
        blocked = attempt("correct-horse-battery")
        assert blocked.status_code == 429 and "Too many failed attempts" in blocked.text
        assert "detector_session" not in client.cookies
    # Another reviewer is not affected, and sees the attempts in the audit log.
    with write_transaction(engine) as conn:
        add_test_reviewer(conn, "bob")
    bob = sign_in(live.url, username="bob")
    try:
        audit = bob.get("/dashboard/audit").text
    finally:
        bob.close()
    assert audit.count("signin_failed") >= 10 and "alice" in audit
