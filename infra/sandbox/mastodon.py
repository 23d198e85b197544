"""Mastodon REST API in the sandbox: an account's statuses (Link-header paging) and a status's context."""

from __future__ import annotations

import bisect
import html
import re
from typing import Any
from urllib.parse import urlencode

from functions.model import Post
from infra.sandbox.data import PlatformData, native, user_native
from infra.sandbox.server import Reply, Request, Sandbox

LIMIT_MAX = 40
STATUSES = re.compile(r"^/api/v1/accounts/(?P<id>[^/]+)/statuses$")
CONTEXT = re.compile(r"^/api/v1/statuses/(?P<id>[^/]+)/context$")
INSTANCE = "med-mastodon.example"


def handle(sandbox: Sandbox, request: Request) -> Reply:
    data = sandbox.data.platform("mastodon")
    match = STATUSES.match(request.path)
    if match:
        account = data.by_owner.get(match["id"])
        if account is None:
            return Reply(404, {"error": "Record not found"})
        items = account.posts
        if request.arg("exclude_replies") not in ("true", "1"):
            own = account.owner.author.id
            items = sorted([*items, *(p for p in data.items.values() if p.kind != "post" and p.author.id == own)],
                           key=lambda p: int(native(p)), reverse=True)
        return _statuses_page(data, request, items, account.name)
    match = CONTEXT.match(request.path)
    if match:
        status = data.items.get(match["id"])
        if status is None:
            return Reply(404, {"error": "Record not found"})
        ancestors: list[Post] = []
        parent = status.parent_id
        while parent and parent.split(":", 1)[1] in data.items:
            ancestors.insert(0, data.items[parent.split(":", 1)[1]])
            parent = ancestors[0].parent_id
        descendants = data.threads.get(native(status), []) if not status.parent_id else _below(data, status)
        body = {"ancestors": [_status(data, p) for p in ancestors],
                "descendants": [_status(data, p) for p in descendants]}
        return Reply(200, body, _limits(), data.account_of.get(match["id"]))
    return Reply(404, {"error": "Not found"})


def _below(data: PlatformData, status: Post) -> list[Post]:
    out, stack = [], list(reversed(data.children.get(native(status), [])))
    while stack:
        item = stack.pop()
        out.append(item)
        stack.extend(reversed(data.children.get(native(item), [])))
    return out


def _statuses_page(data: PlatformData, request: Request, items: list[Post], account: str) -> Reply:
    limit = min(max(1, request.int_arg("limit", 20)), LIMIT_MAX)
    key = lambda p: -int(native(p))  # noqa: E731 (lists are newest first: ascending in -id)
    max_id, since_id, min_id = request.arg("max_id"), request.arg("since_id"), request.arg("min_id")
    if max_id and max_id.isdigit():
        items = items[bisect.bisect_right(items, -int(max_id), key=key):]
    lower = min_id if min_id and min_id.isdigit() else since_id if since_id and since_id.isdigit() else None
    if lower:
        items = items[: bisect.bisect_left(items, -int(lower), key=key)]
    chunk = items[-limit:] if min_id and min_id.isdigit() else items[:limit]
    headers = _limits()
    if chunk:
        base = f"{request.base}{request.path}"
        keep = {k: v[0] for k, v in request.query.items() if k not in ("max_id", "since_id", "min_id")}
        links = [f'<{base}?{urlencode({**keep, "min_id": native(chunk[0])})}>; rel="prev"']
        if len(items) > limit or (min_id and len(chunk) == limit):
            links.insert(0, f'<{base}?{urlencode({**keep, "max_id": native(chunk[-1])})}>; rel="next"')
        headers["Link"] = ", ".join(links)
    return Reply(200, [_status(data, p) for p in chunk], headers, account)


def _limits() -> dict[str, str]:
    return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299"}


def _account(post: Post) -> dict[str, Any]:
    acct = post.author.handle
    username, _, domain = acct.partition("@")
    return {"id": user_native(post), "username": username, "acct": acct, "display_name": post.author.name,
            "url": f"https://{domain or INSTANCE}/@{username}", "bot": False, "locked": False}


def _content(text: str) -> str:
    paragraphs = [html.escape(par).replace("\n", "<br />") for par in text.split("\n\n")]
    return "".join(f"<p>{par}</p>" for par in paragraphs)


def _status(data: PlatformData, post: Post) -> dict[str, Any]:
    parent = data.items.get(post.parent_id.split(":", 1)[1]) if post.parent_id else None
    username, _, domain = post.author.handle.partition("@")
    return {
        "id": native(post),
        "created_at": post.created_at.replace("Z", ".000Z"),
        "in_reply_to_id": native(parent) if parent else None,
        "in_reply_to_account_id": user_native(parent) if parent else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": post.lang,
        "uri": f"https://{domain or INSTANCE}/users/{username}/statuses/{native(post)}",
        "url": post.url,
        "replies_count": len(data.children.get(native(post), [])),
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": _content(post.text),
        "reblog": None,
        "account": _account(post),
        "media_attachments": [],
        "mentions": [],
        "tags": [],
    }
