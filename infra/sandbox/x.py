"""X API v2 in the sandbox: user timeline, mentions and recent search by conversation_id."""

from __future__ import annotations

import bisect
import re
from typing import Any

from functions.model import Post
from infra.sandbox.data import PlatformData, decode_cursor, encode_cursor, native, negated, user_native
from infra.sandbox.server import Reply, Request, Sandbox

MAX_RESULTS = 100
QUERY_MAX = 512  # recent search query length at the basic access levels
TIMELINE = re.compile(r"^/2/users/(?P<user>[^/]+)/(?P<what>tweets|mentions)$")
CONVERSATION = re.compile(r"conversation_id:(\d+)")


def handle(sandbox: Sandbox, request: Request) -> Reply:
    data = sandbox.data.platform("x")
    match = TIMELINE.match(request.path)
    if match:
        account = data.by_owner.get(match["user"])
        if account is None:
            return _error(404, "Not Found Error", f"Could not find user with id: [{match['user'][:40]}].")
        if match["what"] == "mentions":
            items = account.mentions
        elif "replies" in (request.arg("exclude") or ""):
            items = account.posts
        else:  # without exclude=replies the timeline also holds the account's own replies
            items = sorted(
                [*account.posts, *(p for p in data.items.values() if p.kind != "post" and p.author.id ==
                                   account.owner.author.id)],
                key=lambda p: (p.created_at, p.id), reverse=True,
            )
        return _page(data, request, items, account.name, low=5, token_name="pagination_token")
    if request.path == "/2/tweets/search/recent":
        query = request.arg("query") or ""
        if len(query) > QUERY_MAX:
            return _error(400, "Invalid Request", f"query must be at most {QUERY_MAX} characters")
        roots = CONVERSATION.findall(query)  # "conversation_id:A OR conversation_id:B ..."
        if not roots:
            return _error(400, "Invalid Request", "this sandbox searches by conversation_id only")
        found = [p for root in roots for p in data.threads.get(root, [])]
        newest_first = sorted(found, key=lambda p: int(native(p)), reverse=True)
        return _page(data, request, newest_first, data.account_of.get(roots[0]), low=10, token_name="next_token")
    return _error(404, "Not Found Error", "no such endpoint in this sandbox")


def _page(
    data: PlatformData, request: Request, items: list[Post], account: str | None, *, low: int, token_name: str
) -> Reply:
    size = request.int_arg("max_results", 10)
    if not low <= size <= MAX_RESULTS:
        detail = f"The `max_results` query parameter value [{size}] is not between {low} and {MAX_RESULTS}"
        return _error(400, "Invalid Request", detail, account)
    since = request.arg("since_id")
    if since and since.isdigit():  # ids grow with time, and lists are newest first: bisect, never scan
        items = items[: bisect.bisect_left(items, -int(since), key=lambda p: -int(native(p)))]
    start_time = request.arg("start_time")
    if start_time:
        moment = start_time.replace(".000Z", "Z")
        items = items[: bisect.bisect_right(items, negated(moment), key=lambda p: negated(p.created_at))]
    offset = decode_cursor(request.arg(token_name))
    chunk = items[offset : offset + size]
    fields = set((request.arg("tweet.fields") or "").split(","))
    body: dict[str, Any] = {"meta": {"result_count": len(chunk)}}
    if chunk:
        body["data"] = [_tweet(data, p, fields) for p in chunk]
        if "author_id" in (request.arg("expansions") or ""):
            users = {p.author.id: p for p in chunk}
            body["includes"] = {"users": [_user(p) for p in users.values()]}
        body["meta"].update(newest_id=native(chunk[0]), oldest_id=native(chunk[-1]))
    if offset + size < len(items):
        body["meta"]["next_token"] = encode_cursor(offset + size)
    return Reply(200, body, {"x-rate-limit-limit": "900", "x-rate-limit-remaining": "899"}, account)


def _tweet(data: PlatformData, post: Post, fields: set[str]) -> dict[str, Any]:
    tweet: dict[str, Any] = {"id": native(post), "text": post.text, "edit_history_tweet_ids": [native(post)]}
    parent = data.items.get(post.parent_id.split(":", 1)[1]) if post.parent_id else None
    full: dict[str, Any] = {
        "author_id": user_native(post),
        "created_at": post.created_at.replace("Z", ".000Z"),
        "conversation_id": data.root_of.get(native(post), native(post)),
        "lang": post.lang or "und",
    }
    if parent is not None:
        full["in_reply_to_user_id"] = user_native(parent)
        full["referenced_tweets"] = [{"type": "replied_to", "id": native(parent)}]
    elif post.parent_id:
        full["referenced_tweets"] = [{"type": "replied_to", "id": post.parent_id.split(":", 1)[1]}]
    tweet.update({k: v for k, v in full.items() if k in fields})
    return tweet


def _user(post: Post) -> dict[str, Any]:
    return {"id": user_native(post), "name": post.author.name, "username": post.author.handle}


def _error(status: int, title: str, detail: str, account: str | None = None) -> Reply:
    return Reply(status, {"title": title, "detail": detail, "type": "about:blank", "status": status}, account=account)
