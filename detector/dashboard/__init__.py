"""The review dashboard: server-rendered pages over the case store.

``mount(app)`` adds its routes, its static files and the handlers that turn a missing
session into a redirect to the sign-in page. See docs/dashboard.md.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from detector.api import problems
from detector.api.responses import JSONBytes
from detector.dashboard.auth import SignInRequired
from detector.dashboard.routes import actions, case, network, queue, records, signin
from detector.dashboard.web import SECURITY_HEADERS, STATIC_DIR, render
from detector.errors import InvalidRequestError, NotFoundError

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    app.mount("/dashboard/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    for module in (signin, queue, case, actions, records, network):
        app.include_router(module.router, include_in_schema=False)
    app.include_router(actions.bulk, include_in_schema=False)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, _: SignInRequired) -> Response:
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"/dashboard/signin?next={quote(target, safe='/')}",
                status_code=303,
                headers=SECURITY_HEADERS,
            )
        return JSONBytes({"detail": "sign in first"}, status_code=401)

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        return _error(request, 404, str(exc))

    @app.exception_handler(InvalidRequestError)
    async def invalid(request: Request, exc: InvalidRequestError) -> Response:
        return _error(request, 422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        found = problems.validation_problems(exc)
        if request.url.path.startswith("/dashboard"):
            message = "; ".join(f"{field}: {rule}" for field, rule in found)
            return _error(request, 422, message)
        return problems.unprocessable(found)


def _error(request: Request, status: int, message: str) -> Response:
    """HTML for the dashboard's pages, JSON for the API (422s in the API's one shape)."""
    if request.url.path.startswith("/dashboard"):
        return render(
            "error.html",
            status_code=status,
            reviewer=None,
            csrf="",
            message=message,
            back=_back(request),
        )
    if status == 422:
        return problems.unprocessable([problems.detail_problem(message)])
    return JSONBytes({"detail": message}, status_code=status)


def _back(request: Request) -> str:
    """The dashboard page the reviewer came from, if the browser said so: only a path
    of this dashboard, never another site."""
    came = urlsplit(request.headers.get("referer", ""))
    if came.netloc != request.url.netloc or not came.path.startswith("/dashboard"):
        return ""
    return came.path + (f"?{came.query}" if came.query else "")
