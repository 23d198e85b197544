"""A local HTTP server that answers like the seven platforms' APIs, from sample posts.

Usage::

    with start_sandbox("infra/samples/posts.jsonl") as sandbox:
        sandbox.url            # http://127.0.0.1:PORT ; platform APIs under /x, /facebook, ...
        sandbox.requests       # Counter of requests per platform

Paths mirror the real APIs under a per-platform prefix (``/x/2/users/:id/tweets``,
``/facebook/v21.0/:page/posts``, ``/youtube/youtube/v3/commentThreads``...). Pages are as large
as each API allows and no larger; tokens are checked against ``tokens.DEMO_TOKENS``. Faults are
injected per account (``{"x:LakeshoreCME": Fault("rate_limit", retry_after=5)}``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

from functions.model import Post, read_posts
from infra.sandbox.data import Dataset, shift_to_now
from infra.sandbox.tokens import DEMO_TOKENS

FAULT_KINDS = ("rate_limit", "unauthorized", "forbidden", "server_error", "slow", "malformed", "truncated", "usage")


@dataclass
class Fault:
    """A failure the sandbox injects into one account's answers.

    ``after`` requests are served normally first, then ``times`` requests (None: all) fail.
    ``rate_limit`` answers 429 with Retry-After and the platform's reset header; ``slow`` waits
    ``delay`` seconds before answering (a timeout when longer than the client's); ``malformed``
    sends a body that is not JSON; ``truncated`` cuts a valid page in half; ``usage`` answers
    normally with Meta usage headers at ``usage`` percent.
    """

    kind: str
    times: int | None = 1
    after: int = 0
    retry_after: float = 30.0
    delay: float = 5.0
    usage: int = 95
    served: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r} (one of {', '.join(FAULT_KINDS)})")

    def fires(self, count: int) -> bool:
        """True when the ``count``-th request (1-based) of the account must fail."""
        if count <= self.after:
            return False
        return self.times is None or count <= self.after + self.times


@dataclass
class Request:
    """An incoming API call, as the platform handlers see it."""

    method: str
    path: str  # after the platform prefix
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes
    base: str  # the platform's base URL in this sandbox (for next-page links)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int) -> int:
        try:
            return int(self.arg(name) or default)
        except ValueError:
            return -1

    def token(self) -> str | None:
        """The credential, wherever the platform lets it travel (header or query)."""
        auth = self.headers.get("Authorization") or ""
        for scheme in ("Bearer ", "OAuth "):
            if auth.startswith(scheme):
                return auth[len(scheme) :].strip()
        return self.headers.get("X-Goog-Api-Key") or self.arg("access_token") or self.arg("key")


@dataclass
class Reply:
    """What a handler answers; ``account`` names the account the call was about (for faults)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    account: str | None = None
    raw: bytes | None = None

    def encode(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


Handler = Callable[["Sandbox", Request], Reply]


ROUTES = {  # platform -> (module of infra.sandbox, handler function)
    "x": ("x", "handle"),
    "facebook": ("meta", "handle_facebook"),
    "instagram": ("meta", "handle_instagram"),
    "linkedin": ("linkedin", "handle"),
    "youtube": ("youtube", "handle"),
    "mastodon": ("mastodon", "handle"),
    "bluesky": ("bluesky", "handle"),
}


def _handlers() -> dict[str, Handler]:
    import importlib

    found: dict[str, Handler] = {}
    for platform, (module, function) in ROUTES.items():
        try:
            found[platform] = getattr(importlib.import_module(f"infra.sandbox.{module}"), function)
        except ModuleNotFoundError as exc:
            if exc.name != f"infra.sandbox.{module}":
                raise
    return found


class Sandbox:
    """The running server; ``url`` is its base, ``stop()`` ends it. A context manager."""

    def __init__(
        self,
        posts: Iterable[Post],
        *,
        faults: Mapping[str, Fault | list[Fault]] | None = None,
        tokens: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.posts = list(posts)
        self.data = Dataset(self.posts)
        self.tokens = dict(tokens or DEMO_TOKENS)
        self.faults = {k: (v if isinstance(v, list) else [v]) for k, v in (faults or {}).items()}
        self.requests: Counter[str] = Counter()  # per platform
        self.account_requests: Counter[str] = Counter()  # per "platform:account"
        self.log: list[tuple[str, str, int]] = []  # (platform, path, status), for tests and debugging
        self._lock = threading.Lock()
        self._handlers = _handlers()
        self._server = ThreadingHTTPServer((host, port), _make_handler(self))
        self._server.daemon_threads = True
        # A short poll interval makes stop() quick (tests start and stop many sandboxes).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="sandbox", daemon=True
        )
        host_name, port_number = self._server.server_address[:2]
        self.url = f"http://{host_name!s}:{port_number}"

    def start(self) -> Sandbox:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def base_url(self, platform: str) -> str:
        """Where a connector for ``platform`` should point (``account.base_url``)."""
        return f"{self.url}/{platform}"

    def serve(self, platform: str, request: Request) -> Reply:
        """Answer one request: the platform's handler, then any fault configured for its account."""
        with self._lock:
            self.requests[platform] += 1
        if self.tokens.get(platform) and not _public(platform, request) and not self._token_ok(platform, request):
            reply = _unauthorized(platform)
        else:
            reply = self._handlers[platform](self, request)
        if reply.account:
            reply = self._apply_faults(platform, reply)
        with self._lock:
            self.log.append((platform, request.path, reply.status))
        return reply

    def _token_ok(self, platform: str, request: Request) -> bool:
        token = request.token()
        if platform == "bluesky":  # calls carry the session's access JWT, not the app password
            from infra.sandbox.bluesky import session_token

            return token == session_token(self.tokens[platform])
        return token == self.tokens[platform]

    def _apply_faults(self, platform: str, reply: Reply) -> Reply:
        key = f"{platform}:{reply.account}"
        with self._lock:
            self.account_requests[key] += 1
            count = self.account_requests[key]
        for fault in self.faults.get(key, []) + self.faults.get(f"{platform}:*", []):
            if fault.fires(count):
                fault.served += 1
                return _faulty(platform, fault, reply)
        return reply


def _public(platform: str, request: Request) -> bool:
    # Logging in is the one call that carries no token yet.
    return platform == "bluesky" and request.path.endswith("com.atproto.server.createSession")


def _unauthorized(platform: str) -> Reply:
    from infra.sandbox import errors

    return errors.auth_error(platform, 401)


def _faulty(platform: str, fault: Fault, reply: Reply) -> Reply:
    from infra.sandbox import errors

    if fault.kind == "rate_limit":
        return errors.rate_limited(platform, fault.retry_after)
    if fault.kind in ("unauthorized", "forbidden"):
        return errors.auth_error(platform, 401 if fault.kind == "unauthorized" else 403)
    if fault.kind == "server_error":
        return Reply(503, {"error": "service unavailable"})
    if fault.kind == "slow":
        time.sleep(fault.delay)
        return reply
    if fault.kind == "malformed":
        return Reply(200, raw=b'{"data": [ {"id": "1", "text": oops', headers={"Content-Type": "application/json"})
    if fault.kind == "truncated":
        body = reply.encode()
        return Reply(200, raw=body[: max(1, len(body) // 2)], headers=reply.headers)
    return errors.with_usage(reply, fault.usage)


def _make_handler(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class SandboxHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

        def log_message(self, format: str, *args: Any) -> None:  # quiet: counters keep the record
            return

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            platform, _, rest = parts.path.lstrip("/").partition("/")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if platform not in sandbox._handlers:
                reply = Reply(404, {"error": f"no platform {platform[:40]!r} in this sandbox"})
            else:
                request = Request(
                    method=method,
                    path="/" + rest,
                    query=parse_qs(parts.query),
                    headers=CaseInsensitiveDict(self.headers.items()),
                    body=body,
                    base=f"{sandbox.url}/{platform}",
                )
                try:
                    reply = sandbox.serve(platform, request)
                except Exception as exc:  # a sandbox bug must show, not hang the client
                    reply = Reply(500, {"error": f"sandbox error: {type(exc).__name__}: {exc}"})
            payload = reply.encode()
            try:
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass

    return SandboxHandler


def load_posts(source: Iterable[Post] | str | Path) -> list[Post]:
    """Posts from a JSON Lines path or any iterable of Posts."""
    if isinstance(source, (str, Path)):
        with Path(source).open(encoding="utf-8") as handle:
            return list(read_posts(handle))
    return list(source)


def start_sandbox(
    posts: Iterable[Post] | str | Path,
    *,
    faults: Mapping[str, Fault | list[Fault]] | None = None,
    shift_to_now: bool = True,
    now: datetime | None = None,
    tokens: Mapping[str, str] | None = None,
    port: int = 0,
) -> Sandbox:
    """Start a sandbox on 127.0.0.1 serving ``posts`` (moved to end a few hours before now)."""
    items = load_posts(posts)
    if shift_to_now:
        items = _shift(items, now or datetime.now(UTC))
    return Sandbox(items, faults=faults, tokens=tokens, port=port).start()


def _shift(items: list[Post], now: datetime) -> list[Post]:
    return shift_to_now(items, now=now)
