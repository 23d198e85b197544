"""Bluesky (AT Protocol XRPC) in the sandbox: sessions, author feeds and post threads."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from functions.model import Post
from infra.sandbox.data import PlatformData, decode_cursor, encode_cursor, native, user_native
from infra.sandbox.server import Reply, Request, Sandbox

LIMIT_MAX = 100
DEPTH_MAX = 1000


def session_token(app_password: str) -> str:
    """The access JWT the sandbox issues for an app password (opaque, like the real one)."""
    return "sandbox-jwt-" + hashlib.sha256(app_password.encode()).hexdigest()[:32]


def handle(sandbox: Sandbox, request: Request) -> Reply:
    data = sandbox.data.platform("bluesky")
    method = request.path.removeprefix("/xrpc/")
    if method == "com.atproto.server.createSession":
        return _create_session(sandbox, data, request)
    if method == "app.bsky.feed.getAuthorFeed":
        actor = request.arg("actor") or ""
        account = data.account_for_user(actor)
        if account is None:
            return _error(400, "InvalidRequest", "Profile not found")
        limit = request.int_arg("limit", 50)
        if not 1 <= limit <= LIMIT_MAX:
            return _error(400, "InvalidRequest", f"limit must be between 1 and {LIMIT_MAX}")
        offset = decode_cursor(request.arg("cursor"))
        chunk = account.posts[offset : offset + limit]
        body: dict[str, Any] = {"feed": [{"post": _view(data, p)} for p in chunk]}
        if offset + limit < len(account.posts):
            body["cursor"] = encode_cursor(offset + limit)
        return Reply(200, body, _limits(), account.name)
    if method == "app.bsky.feed.getPostThread":
        uri = request.arg("uri") or ""
        post = data.items.get(uri)
        if post is None:
            return _error(400, "NotFound", f"Post not found: {uri[:80]}")
        depth = min(max(0, request.int_arg("depth", 6)), DEPTH_MAX)
        return Reply(200, {"thread": _thread(data, post, depth)}, _limits(), data.account_of.get(uri))
    return _error(501, "MethodNotImplemented", "Method Not Implemented")


def _create_session(sandbox: Sandbox, data: PlatformData, request: Request) -> Reply:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _error(400, "InvalidRequest", "Invalid JSON")
    account = data.account_for_user(str(body.get("identifier") or ""))
    if account is None or body.get("password") != sandbox.tokens.get("bluesky"):
        return _error(401, "AuthenticationRequired", "Invalid identifier or password")
    token = session_token(sandbox.tokens["bluesky"])
    return Reply(200, {"accessJwt": token, "refreshJwt": token + "-refresh", "handle": account.owner.author.handle,
                       "did": account.native_id, "active": True}, account=account.name)


def _ref(data: PlatformData, uri: str) -> dict[str, str]:
    return {"uri": uri, "cid": _cid(uri)}


def _cid(uri: str) -> str:
    return "bafyrei" + hashlib.sha256(uri.encode()).hexdigest()[:52]


def _view(data: PlatformData, post: Post) -> dict[str, Any]:
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": post.text,
                              "createdAt": post.created_at.replace("Z", ".000Z")}
    if post.lang:
        record["langs"] = [post.lang]
    if post.parent_id:
        parent = post.parent_id.split(":", 1)[1]
        record["reply"] = {"root": _ref(data, data.root_of.get(native(post), parent)), "parent": _ref(data, parent)}
    return {
        "uri": native(post),
        "cid": _cid(native(post)),
        "author": {"did": user_native(post), "handle": post.author.handle, "displayName": post.author.name,
                   "labels": []},
        "record": record,
        "replyCount": len(data.children.get(native(post), [])),
        "repostCount": 0,
        "likeCount": 0,
        "quoteCount": 0,
        "indexedAt": post.created_at.replace("Z", ".000Z"),
        "labels": [],
    }


def _thread(data: PlatformData, post: Post, depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"$type": "app.bsky.feed.defs#threadViewPost", "post": _view(data, post)}
    if depth > 0:
        node["replies"] = [_thread(data, child, depth - 1) for child in data.children.get(native(post), [])]
    return node


def _limits() -> dict[str, str]:
    return {"ratelimit-limit": "3000", "ratelimit-remaining": "2999", "ratelimit-policy": "3000;w=300"}


def _error(status: int, error: str, message: str) -> Reply:
    return Reply(status, {"error": error, "message": message})
