"""The workbench (web/, built into argus/api/static/) served at `/`, and the headers that hold
every page to its origin.

The Content-Security-Policy admits scripts, styles, fonts and connections from the origin only
(no `unsafe-inline`, no CDN), images from the origin and `data:`/`blob:` (chart exports), plus
the site's tile server when one is configured; the page cannot be framed. Swagger UI at /docs
inlines its start-up script, so it alone is served without the policy.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(str(resources.files("argus.api") / "static"))
NOT_BUILT = "the workbench bundle is missing from this installation (argus/api/static); run `npm run build` in web/"


def csp(tile_url: str | None) -> str:
    tiles = ""
    if tile_url:
        u = urlsplit(tile_url)
        tiles = f" {u.scheme}://{u.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; connect-src 'self'; "
        f"img-src 'self' data: blob:{tiles}; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Pure ASGI (streams such as SSE pass through untouched)."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
        ]
        self.csp = (b"content-security-policy", policy.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(self.headers)
        if not scope["path"].startswith("/docs"):
            extra.append(self.csp)

        async def send_with(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with)


def mount_workbench(app: FastAPI, tile_url: str | None) -> None:
    app.add_middleware(SecurityHeaders, policy=csp(tile_url))
    app.mount("/assets", StaticFiles(directory=STATIC / "assets", check_dir=False), name="workbench-assets")

    @app.get("/", include_in_schema=False)
    async def workbench() -> Any:
        index = STATIC / "index.html"
        if not index.is_file():
            return Response(NOT_BUILT, status_code=503, media_type="text/plain")
        # the shell names its hashed assets: never cached, so a new release is picked up at once
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-store"})
