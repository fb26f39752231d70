"""The web console: ``/`` serves its page, ``/console/*`` its script and stylesheet.

The page is public (it holds nothing); every call it makes goes through the API's own
key checks. A strict Content-Security-Policy keeps any script but ours out of the page:
document text reaches the DOM only as text, and this is the second line of defence.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from app.web import STATIC_DIR

router = APIRouter(include_in_schema=False)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@router.get("/")
def console_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=SECURITY_HEADERS)


class ConsoleFiles(StaticFiles):
    """The console's files with the page's security headers, whichever URL serves them
    (``/console/index.html`` is the page too)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(SECURITY_HEADERS)
        return response


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/console", ConsoleFiles(directory=STATIC_DIR), name="console")
