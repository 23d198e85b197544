"""LinkedIn versioned REST API in the sandbox: an organization's posts and the comments on them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlencode

from functions.model import Post, parse_time
from infra.sandbox.data import PlatformData, native, user_native
from infra.sandbox.server import Reply, Request, Sandbox

COUNT_MAX = 100
COMMENTS = re.compile(r"^/rest/socialActions/(?P<urn>[^/]+)/comments$")


def handle(sandbox: Sandbox, request: Request) -> Reply:
    data = sandbox.data.platform("linkedin")
    if not re.fullmatch(r"\d{6}", request.headers.get("LinkedIn-Version") or ""):
        return _error(400, "VERSION_MISSING", "A version must be present. Please specify a version by adding the "
                      "LinkedIn-Version header.")
    if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
        return _error(400, "ILLEGAL_ARGUMENT", "X-Restli-Protocol-Version 2.0.0 is required for this resource")
    if request.path == "/rest/posts":
        if request.arg("q") != "author":
            return _error(400, "ILLEGAL_ARGUMENT", "only the author finder is served by this sandbox")
        account = data.by_owner.get(request.arg("author") or "")
        if account is None:
            return _error(403, "ACCESS_DENIED", "Not enough permissions to access posts of this author")
        return _page(request, account.posts, lambda p: _post(p), account.name)
    match = COMMENTS.match(request.path)
    if match:
        urn = unquote(match["urn"])
        if urn not in data.items:
            return _error(404, "NOT_FOUND", "Not Found")
        decorate = "actor~" in (request.arg("projection") or "")
        return _page(request, data.children.get(urn, []), lambda p: _comment(data, p, decorate),
                     data.account_of.get(urn))
    return _error(404, "NOT_FOUND", "Not Found")


def _page(request: Request, items: list[Post], render: Any, account: str | None) -> Reply:
    count = request.int_arg("count", 10)
    if not 1 <= count <= COUNT_MAX:
        return _error(400, "ILLEGAL_ARGUMENT", f"count must be between 1 and {COUNT_MAX}", account)
    start = max(0, request.int_arg("start", 0))
    chunk = items[start : start + count]
    links = []
    if start + count < len(items):
        query = {k: v[0] for k, v in request.query.items()}
        query["start"] = str(start + count)
        links.append({"type": "application/json", "rel": "next", "href": f"/rest{request.path[5:]}?{urlencode(query)}"})
    body = {"paging": {"start": start, "count": count, "links": links}, "elements": [render(p) for p in chunk]}
    return Reply(200, body, {"x-li-format": "json"}, account)


def _ms(post: Post) -> int:
    return int(parse_time(post.created_at).timestamp() * 1000)


def _post(post: Post) -> dict[str, Any]:
    stamp = _ms(post)
    return {
        "id": native(post),
        "author": user_native(post),
        "commentary": post.text,
        "visibility": "PUBLIC",
        "lifecycleState": "PUBLISHED",
        "createdAt": stamp,
        "publishedAt": stamp,
        "lastModifiedAt": stamp,
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "isReshareDisabledByAuthor": False,
    }


def _actor(post: Post) -> dict[str, Any]:
    urn = user_native(post)
    if urn.startswith("urn:li:organization:"):
        return {"id": urn.rsplit(":", 1)[1], "localizedName": post.author.name, "vanityName": post.author.handle}
    first, _, last = post.author.name.partition(" ")
    return {"id": urn.rsplit(":", 1)[1], "localizedFirstName": first, "localizedLastName": last,
            "vanityName": post.author.handle}


def _comment(data: PlatformData, post: Post, decorate: bool) -> dict[str, Any]:
    urn = native(post)
    stamp = {"actor": user_native(post), "time": _ms(post)}
    replies = len(data.children.get(urn, []))
    parent = post.parent_id.split(":", 1)[1] if post.parent_id else ""
    comment: dict[str, Any] = {
        "id": urn.rsplit(",", 1)[-1].rstrip(")"),
        "commentUrn": urn,
        "actor": user_native(post),
        "message": {"text": post.text, "attributes": []},
        "created": stamp,
        "lastModified": stamp,
        "object": data.root_of.get(urn, parent),
        "commentsSummary": {"totalFirstLevelComments": replies, "aggregatedTotalComments": replies,
                            "selectedComments": []},
        "likesSummary": {"totalLikes": 0, "likedByCurrentUser": False},
    }
    if parent.startswith("urn:li:comment:"):
        comment["parentComment"] = parent
    if decorate:
        comment["actor~"] = _actor(post)
    return comment


def _error(status: int, code: str, message: str, account: str | None = None) -> Reply:
    return Reply(status, {"status": status, "code": code, "message": message}, account=account)
