"""What keeps the web view safe to run: the Host header check, the CSRF token, the security headers (no referrer leaves this origin).

- Host: a request whose Host header is not this server's address and port is refused (421), so a web
  page on another origin that rebinds its DNS name to 127.0.0.1 reads nothing.
- CSRF: every form that edits carries a per-process random token, compared in constant time; a POST
  without it, or from another Origin, is refused (403) before anything is read.
- Headers: a Content-Security-Policy that runs only this server's own script and styles, no framing
  by others, no sniffing, no referrer. An HTML file previewed from an artifact gets a stricter one
  (``sandbox``: no script, no same origin, no network).
"""
from __future__ import annotations

import hmac
import secrets

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
            "frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
# For an artifact's own HTML shown in a frame: nothing runs, nothing loads but inline styles and data: images.
PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make form posts say Origin: null
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class CsrfToken:
    """One random token per server process; forms carry it, POSTs must return it."""

    def __init__(self) -> None:
        self.value = secrets.token_urlsafe(32)

    def check(self, given: object) -> bool:
        return isinstance(given, str) and hmac.compare_digest(given.encode(), self.value.encode())


class GuardMiddleware:
    """ASGI middleware: refuse foreign Host headers (and foreign Origins on writes), add security headers."""

    def __init__(self, app, allowed_hosts: set[str]) -> None:
        self.app = app
        self.allowed = {h.lower().encode() for h in allowed_hosts}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").lower()
        if host not in self.allowed:
            return await _plain(send, 421, f"refused: Host {host.decode('latin-1')!r} is not this server's address")
        origin = headers.get(b"origin")
        if scope["method"] not in ("GET", "HEAD") and origin is not None and origin.lower() not in {b"http://" + h for h in self.allowed}:
            return await _plain(send, 403, "refused: a write from another origin")

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in COMMON_HEADERS if h[0] not in have]
                if b"content-security-policy" not in have:
                    extra.append((b"content-security-policy", PAGE_CSP.encode()))
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        await self.app(scope, receive, with_headers)


async def _plain(send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()), *COMMON_HEADERS]})
    await send({"type": "http.response.body", "body": body})
