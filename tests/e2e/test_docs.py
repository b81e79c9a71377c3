"""`/docs` works offline: the page and every file it loads come from the gateway itself
(issue 10, 2.13), and without those files the page says what is missing instead of being blank."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
from fastapi import FastAPI

from smsgate.adapters.http_api import docs
from tests.e2e.conftest import Env


class _Assets(HTMLParser):
    """The URLs a page loads: <script src>, <link href>, <img src>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append((tag, value))


async def test_docs_and_every_asset_come_from_the_gateway(env: Env) -> None:
    page = await env.client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    parser = _Assets()
    parser.feed(page.text)
    assert {tag for tag, _ in parser.urls} == {"script", "link"}
    # No other host anywhere in the page: every URL is a path on this gateway.
    assert re.findall(r"(?:https?:)?//[\w.-]+", page.text) == []
    for _tag, url in parser.urls:
        assert url.startswith("/")
        assert not url.startswith("//")
    kinds = {}
    for _tag, url in parser.urls:
        asset = await env.client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0, url
        kinds[url.rsplit(".", 1)[1]] = asset.headers["content-type"]
        if url.endswith(".js"):
            assert b"SwaggerUIBundle" in asset.content
    assert "javascript" in kinds["js"]
    assert kinds["css"].startswith("text/css")
    assert kinds["png"] == "image/png"
    # The page's own script reads the spec from this gateway too.
    assert "url: '/openapi.json'" in page.text
    spec = await env.client.get("/openapi.json")
    assert spec.status_code == 200
    # The package's licence ships beside the files it covers.
    licence = await env.client.get(docs.PREFIX + "/LICENSE")
    assert licence.status_code == 200
    assert "Apache License" in licence.text


async def test_docs_without_the_assets_say_so(tmp_path: Path) -> None:
    app = FastAPI(title="smsgate", docs_url=None, redoc_url=None)
    docs.install(app, assets=tmp_path / "not-built")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        page = await client.get("/docs")
        asset = await client.get(docs.PREFIX + "/swagger-ui-bundle.js")
    assert page.status_code == 503
    assert "make setup" in page.text
    assert "swagger-ui-bundle.js" in page.text
    assert asset.status_code == 404
