"""The review dashboard: server-rendered pages over the case store.

``mount(app)`` adds its routes, its static files and the handlers that turn a missing
session into a redirect to the sign-in page. See docs/dashboard.md.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from detector.api.responses import JSONBytes
from detector.dashboard.auth import SignInRequired
from detector.dashboard.routes import actions, case, queue, records, signin
from detector.dashboard.web import SECURITY_HEADERS, STATIC_DIR, render
from detector.errors import InvalidRequestError, NotFoundError

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    app.mount("/dashboard/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    for module in (signin, queue, case, actions, records):
        app.include_router(module.router, include_in_schema=False)

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


def _error(request: Request, status: int, message: str) -> Response:
    """HTML for the dashboard's pages, JSON for the API."""
    if request.url.path.startswith("/dashboard"):
        return render("error.html", status_code=status, reviewer=None, csrf="", message=message)
    return JSONBytes({"detail": message}, status_code=status)
