"""`/docs`: Swagger UI served by the gateway itself, so it works offline (DESIGN.md §8).

Its files come from the npm package `swagger-ui-dist`, pinned in web/package-lock.json: `make
setup` installs it (`npm ci --ignore-scripts`) and copies what the page needs into
`static/swagger/` beside this module, a git-ignored directory that ships in the wheel. Nothing
third-party is committed and nothing loads from a CDN. Without those files (the build step was
skipped) `/docs` says so instead of showing a blank page.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

__all__ = ["ASSETS", "PREFIX", "install"]

ASSETS = Path(__file__).parent / "static" / "swagger"
PREFIX = "/static/docs"
JS, CSS, FAVICON = "swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"

_MISSING = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>API docs unavailable</title></head>
<body><h1>API docs unavailable</h1>
<p>The Swagger UI files are not installed in this copy of smsgate (missing: {missing}).
Run <code>make setup</code> (it installs them from npm and copies them into the package),
then restart the gateway.</p>
<p>The API description itself is at <a href="{openapi}">{openapi}</a>.</p>
</body></html>
"""


def install(app: FastAPI, *, assets: Path = ASSETS) -> None:
    """Serve Swagger UI at `/docs` and its files under `/static/docs/` from `assets`.
    The app must be made with `docs_url=None, redoc_url=None` (FastAPI's CDN pages)."""
    if assets.is_dir():
        app.mount(PREFIX, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        openapi = root + (app.openapi_url or "/openapi.json")
        missing = [name for name in (JS, CSS, FAVICON) if not (assets / name).is_file()]
        if missing:
            page = _MISSING.format(missing=html.escape(", ".join(missing)), openapi=openapi)
            return HTMLResponse(page, status_code=503)
        return get_swagger_ui_html(
            openapi_url=openapi,
            title=f"{app.title} API docs",
            swagger_js_url=f"{root}{PREFIX}/{JS}",
            swagger_css_url=f"{root}{PREFIX}/{CSS}",
            swagger_favicon_url=f"{root}{PREFIX}/{FAVICON}",
            # No spec validator badge: it would send the spec to a public service.
            swagger_ui_parameters={"validatorUrl": None},
        )
