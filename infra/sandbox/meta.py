"""Meta Graph API in the sandbox: Facebook Page posts and comments, Instagram media, comments, replies."""

from __future__ import annotations

import bisect
import json
import re
from typing import Any
from urllib.parse import urlencode

from functions.model import Post, format_time, parse_time
from infra.sandbox.data import PlatformData, decode_cursor, encode_cursor, native, negated, user_native
from infra.sandbox.server import Reply, Request, Sandbox

LIMIT_MAX = 100
IG_COMMENT_LIMIT_MAX = 50
ROOT = re.compile(r"^/v\d+\.\d+/?$")
EXPANSION = re.compile(r"comments((?:\.\w+\([^)]*\))*)\{")
MODIFIER = re.compile(r"\.(\w+)\(([^)]*)\)")
NODE_EDGE = re.compile(r"^/v\d+\.\d+/(?P<node>[^/]+)/(?P<edge>posts|published_posts|feed|comments|media|replies)$")
LOW_USAGE = json.dumps({"call_count": 2, "total_cputime": 1, "total_time": 1})


def handle_facebook(sandbox: Sandbox, request: Request) -> Reply:
    data = sandbox.data.platform("facebook")
    if ROOT.match(request.path) and request.arg("ids"):
        return _by_ids(data, request)
    match = NODE_EDGE.match(request.path)
    if not match:
        return _error(400, "Unknown path components", 2500)
    node, edge = match["node"], match["edge"]
    if edge in ("posts", "published_posts", "feed"):
        account = data.by_owner.get(node)
        if account is None:
            return _error(400, f"Unsupported get request. Object with ID '{node[:40]}' does not exist", 100)
        items = _since(account.posts, request.arg("since"))
        inline = _expansion(request.arg("fields") or "")
        return _page(request, items, lambda p: _with_comments(data, request, _fb_post(p), inline), account.name,
                     LIMIT_MAX)
    if edge == "comments":
        if node not in data.items:
            return _error(400, f"Unsupported get request. Object with ID '{node[:40]}' does not exist", 100)
        stream = request.arg("filter") == "stream"
        items = data.threads.get(node, []) if stream else data.children.get(node, [])
        if request.arg("order") == "reverse_chronological":
            items = items[::-1]
        return _page(request, items, lambda p: _fb_comment(data, p), data.account_of.get(node), LIMIT_MAX)
    return _error(400, f"Tried accessing nonexisting field ({edge})", 100)


def handle_instagram(sandbox: Sandbox, request: Request) -> Reply:
    data = sandbox.data.platform("instagram")
    if ROOT.match(request.path) and request.arg("ids"):
        return _by_ids(data, request, instagram=True)
    match = NODE_EDGE.match(request.path)
    if not match:
        return _error(400, "Unknown path components", 2500)
    node, edge = match["node"], match["edge"]
    if edge == "media":
        account = data.by_owner.get(node)
        if account is None:
            return _error(400, f"Unsupported get request. Object with ID '{node[:40]}' does not exist", 100)
        inline = _expansion(request.arg("fields") or "")
        return _page(request, account.posts, lambda p: _ig_with_comments(data, request, _ig_media(p), inline),
                     account.name, LIMIT_MAX)
    if node not in data.items:
        return _error(400, f"Unsupported get request. Object with ID '{node[:40]}' does not exist", 100)
    owner = data.account_of.get(node)
    newest_first = data.children.get(node, [])[::-1]
    if edge == "comments":
        nested = "replies" in (request.arg("fields") or "")
        return _page(request, newest_first, lambda p: _ig_comment(data, request, p, nested), owner,
                     IG_COMMENT_LIMIT_MAX)
    if edge == "replies":
        return _page(request, newest_first, lambda p: _ig_reply(p), owner, IG_COMMENT_LIMIT_MAX)
    return _error(400, f"Tried accessing nonexisting field ({edge})", 100)


def _expansion(fields: str) -> dict[str, str] | None:
    """The modifiers of a ``comments.filter(stream).limit(100){...}`` field expansion, if requested."""
    found = EXPANSION.search(fields)
    return dict(MODIFIER.findall(found.group(1))) if found else None


def _comment_block(
    data: PlatformData, request: Request, node: str, modifiers: dict[str, str]
) -> dict[str, Any] | None:
    """A post's comments as the Graph API inlines them: first page, and ``paging.next`` to the edge."""
    items = data.threads.get(node, []) if modifiers.get("filter") == "stream" else data.children.get(node, [])
    if modifiers.get("order") == "reverse_chronological":
        items = items[::-1]
    if not items:
        return None  # the Graph API leaves an empty edge out
    limit = min(max(1, int(modifiers.get("limit") or 25)), LIMIT_MAX)
    block: dict[str, Any] = {"data": [_fb_comment(data, p) for p in items[:limit]],
                             "paging": {"cursors": {"before": encode_cursor(0), "after": encode_cursor(limit)}}}
    if len(items) > limit:
        query = {"filter": modifiers.get("filter", "toplevel"), "order": modifiers.get("order", "chronological"),
                 "limit": limit, "after": encode_cursor(limit)}
        block["paging"]["next"] = f"{request.base}/v21.0/{node}/comments?{urlencode(query)}"
    return block


def _with_comments(
    data: PlatformData, request: Request, post: dict[str, Any], inline: dict[str, str] | None
) -> dict[str, Any]:
    if inline is not None:
        block = _comment_block(data, request, post["id"], inline)
        if block:
            post["comments"] = block
    return post


def _by_ids(data: PlatformData, request: Request, *, instagram: bool = False) -> Reply:
    """``GET /vNN/?ids=a,b&fields=...``: several nodes in one call, keyed by id."""
    ids = (request.arg("ids") or "").split(",")
    if len(ids) > 50 or any(i not in data.items for i in ids):
        return _error(400, "(#100) Some of the aliases you requested do not exist or too many ids (max 50)", 100)
    inline = _expansion(request.arg("fields") or "") or {}
    add = _ig_with_comments if instagram else _with_comments
    body = {i: add(data, request, {"id": i}, inline) for i in ids}
    return Reply(200, body, {"X-App-Usage": LOW_USAGE}, data.account_of.get(ids[0]))


def _ig_with_comments(
    data: PlatformData, request: Request, media: dict[str, Any], inline: dict[str, str] | None
) -> dict[str, Any]:
    """Media with its first top-level comments (and their replies) inlined, as field expansion does."""
    if inline is None:
        return media
    comments = data.children.get(media["id"], [])[::-1]
    if not comments:
        return media
    limit = min(max(1, int(inline.get("limit") or 25)), IG_COMMENT_LIMIT_MAX)
    nested = "replies" in (request.arg("fields") or "")
    block: dict[str, Any] = {"data": [_ig_comment(data, request, c, nested) for c in comments[:limit]],
                             "paging": {"cursors": {"before": encode_cursor(0), "after": encode_cursor(limit)}}}
    if len(comments) > limit:
        query = {"limit": limit, "after": encode_cursor(limit),
                 "fields": "id,text,timestamp,username,from,replies{id,text,timestamp,username,from,parent_id}"}
        block["paging"]["next"] = f"{request.base}/v21.0/{media['id']}/comments?{urlencode(query)}"
    media["comments"] = block
    return media


def _since(items: list[Post], since: str | None) -> list[Post]:
    """Items created at or after ``since`` (unix seconds or ISO), on a newest-first list, by bisection."""
    if not since:
        return items
    moment = format_time(parse_time(since)) if not since.isdigit() else _unix(int(since))
    return items[: bisect.bisect_right(items, negated(moment), key=lambda p: negated(p.created_at))]


def _unix(seconds: int) -> str:
    from datetime import UTC, datetime

    return format_time(datetime.fromtimestamp(seconds, UTC))


def _page(request: Request, items: list[Post], render: Any, account: str | None, limit_max: int) -> Reply:
    limit = min(max(1, request.int_arg("limit", 25)), limit_max)
    offset = decode_cursor(request.arg("after"))
    chunk = items[offset : offset + limit]
    body: dict[str, Any] = {"data": [render(p) for p in chunk]}
    if chunk:
        body["paging"] = {"cursors": {"before": encode_cursor(offset), "after": encode_cursor(offset + len(chunk))}}
        if offset + limit < len(items):
            query = {k: v[0] for k, v in request.query.items()}
            query["after"] = encode_cursor(offset + limit)
            body["paging"]["next"] = f"{request.base}{request.path}?{urlencode(query)}"
    return Reply(200, body, {"X-App-Usage": LOW_USAGE}, account)


def _time(post: Post) -> str:
    return post.created_at.replace("Z", "+0000")


def _from(post: Post) -> dict[str, str]:
    return {"name": post.author.name, "id": user_native(post)}


def _fb_post(post: Post) -> dict[str, Any]:
    return {"id": native(post), "message": post.text, "created_time": _time(post), "permalink_url": post.url,
            "from": _from(post)}


def _fb_comment(data: PlatformData, post: Post) -> dict[str, Any]:
    comment = {"id": native(post), "message": post.text, "created_time": _time(post), "from": _from(post),
               "permalink_url": post.url}
    parent = post.parent_id.split(":", 1)[1] if post.parent_id else None
    if parent and data.items.get(parent) is not None and data.items[parent].kind != "post":
        comment["parent"] = {"id": parent, "created_time": _time(data.items[parent])}
    return comment


def _ig_media(post: Post) -> dict[str, Any]:
    return {"id": native(post), "caption": post.text, "timestamp": _time(post), "permalink": post.url,
            "username": post.author.handle, "media_type": "IMAGE", "owner": {"id": user_native(post)}}


def _ig_reply(post: Post) -> dict[str, Any]:
    reply = {"id": native(post), "text": post.text, "timestamp": _time(post), "username": post.author.handle,
             "from": {"id": user_native(post), "username": post.author.handle}, "like_count": 0}
    if post.parent_id:
        reply["parent_id"] = post.parent_id.split(":", 1)[1]
    return reply


def _ig_comment(data: PlatformData, request: Request, post: Post, nested: bool) -> dict[str, Any]:
    comment = _ig_reply(post)
    comment.pop("parent_id", None)
    if nested:
        replies = data.children.get(native(post), [])[::-1]
        block: dict[str, Any] = {"data": [_ig_reply(r) for r in replies[:IG_COMMENT_LIMIT_MAX]]}
        if len(replies) > IG_COMMENT_LIMIT_MAX:
            after = encode_cursor(IG_COMMENT_LIMIT_MAX)
            query = urlencode({"limit": IG_COMMENT_LIMIT_MAX, "after": after,
                               "fields": "id,text,timestamp,username,from,parent_id"})
            block["paging"] = {"cursors": {"after": after},
                               "next": f"{request.base}/v21.0/{native(post)}/replies?{query}"}
        comment["replies"] = block
    return comment


def _error(status: int, message: str, code: int) -> Reply:
    return Reply(status, {"error": {"message": message, "type": "GraphMethodException", "code": code,
                                    "fbtrace_id": "AsandboxTrace"}})
