"""Instagram professional accounts through the Graph API: media, their comments, and replies.

``GET /{ig-user-id}/media?limit=100`` lists media newest first, each with its first 50 top-level
comments and their replies inlined by field expansion (``comments.limit(50){...,replies{...}}``);
only busier media cost further ``GET /{media-id}/comments`` pages, and a comment with more
replies than fit inline further ``GET /{comment-id}/replies`` pages. Media tracked from earlier
runs get their comments in one ``GET /?ids=a,b,...`` call per 50. Instagram offers no "since" on
comments, so a tracked post's comments are read again each run and only the new ones yielded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from functions.connectors.base import PayloadError, PlatformAuthError, register
from functions.connectors.graph import GraphConnector, without_token
from functions.connectors.limits import pages
from functions.connectors.tracking import Mark, PostRef
from functions.model import Author, Post, format_time, parse_time

MEDIA_FIELDS = "id,caption,timestamp,permalink,username,owner"
REPLY_FIELDS = "id,text,timestamp,username,from,parent_id"
COMMENT_FIELDS = f"id,text,timestamp,username,from,replies{{{REPLY_FIELDS}}}"
INLINE_LIMIT = 50
INLINE_COMMENTS = f"comments.limit({INLINE_LIMIT}){{{COMMENT_FIELDS}}}"


@register("instagram")
class InstagramConnector(GraphConnector):
    inline_comments = INLINE_COMMENTS
    platform = "instagram"
    page_size = 100
    comment_page_size = 50

    def list_posts(self, since: Mark | None, horizon: str) -> Iterator[Post]:
        if not self.account.native_id:
            raise PlatformAuthError(f"account {self.account.key!r} needs 'id': the Instagram business account id")
        params = {"fields": f"{MEDIA_FIELDS},{INLINE_COMMENTS}", "limit": self.page_size}
        for raw in self.graph_pages(self.node_url(self.account.native_id, "media"), params):
            post = self._convert(raw, None)
            if post is not None:
                self._inline = {str(raw["id"]): raw.get("comments") or {"data": []}}
                yield post

    def _top_level(self, post: PostRef) -> Iterator[dict[str, Any]]:
        block = self._inline.pop(post.native_id, None)
        if block is None:  # not inlined (the batch failed): list the edge itself
            params = {"fields": COMMENT_FIELDS, "limit": self.comment_page_size}
            yield from self.graph_pages(self.node_url(post.native_id, "comments"), params)
            return
        if not isinstance(block.get("data"), list):
            raise PayloadError("an inlined comments block without 'data'")
        yield from (raw for raw in block["data"] if isinstance(raw, dict))
        more = (block.get("paging") or {}).get("next")
        if more:
            yield from self.graph_pages(without_token(more), {})

    def list_comments(self, post: PostRef, seen: Mark | None) -> Iterator[Post]:
        for raw in self._top_level(post):
            comment = self._convert(raw, post)
            if comment is None:
                continue
            yield comment
            yield from self._replies(raw, post)

    def _replies(self, comment: dict[str, Any], post: PostRef) -> Iterator[Post]:
        block = comment.get("replies") or {}
        for raw in block.get("data") or []:
            reply = self._convert({"parent_id": comment.get("id"), **raw}, post)
            if reply is not None:
                yield reply
        more = (block.get("paging") or {}).get("next")
        if more:
            for raw in self.graph_pages(without_token(more), {}):
                reply = self._convert({"parent_id": comment.get("id"), **raw}, post)
                if reply is not None:
                    yield reply

    def _convert(self, raw: dict[str, Any], post: PostRef | None) -> Post | None:
        try:
            return self.to_post(raw, post)
        except (KeyError, TypeError, ValueError) as exc:
            self.skip(f"instagram item {str(raw.get('id'))[:40]}", exc)
            return None

    def to_post(self, raw: dict[str, Any], post: PostRef | None) -> Post:
        """Normalize a media object (``post`` None), a comment, or a reply (it has ``parent_id``)."""
        if post is None:
            user_id, handle = str(raw["owner"]["id"]), str(raw["username"])
        else:
            who = raw.get("from") or {}
            user_id, handle = str(who["id"]), str(who.get("username") or raw["username"])
        parent = raw.get("parent_id")
        kind = "post" if post is None else ("reply" if parent else "comment")
        return Post(
            id=f"instagram:{raw['id']}",
            platform="instagram",
            account=self.account.account,
            kind=kind,
            author=Author(
                id=f"instagram:user:{user_id}",
                handle=handle,
                name=handle,  # the Graph API gives no display name for Instagram users
                is_org=self.is_org(handle, user_id),
            ),
            text=str(raw.get("caption" if post is None else "text") or ""),
            created_at=format_time(parse_time(_iso(raw["timestamp"]))),
            url=raw.get("permalink") if post is None else post.url,
            parent_id=None if post is None else f"instagram:{parent or post.native_id}",
            lang=None,
        )

    @classmethod
    def minimum_for_account(cls, items: list[Post]) -> int:
        """Media pages (first 50 comments and their replies inline) + further pages of busier threads."""
        items = list(items)
        kids: dict[str, int] = {}
        for item in items:
            if item.parent_id:
                kids[item.parent_id] = kids.get(item.parent_id, 0) + 1
        n_posts = sum(1 for p in items if p.kind == "post")
        extra = sum(max(0, pages(kids.get(p.id, 0), INLINE_LIMIT) - 1) for p in items if p.kind != "reply")
        return pages(n_posts, cls.page_size) + extra


def _iso(value: str) -> str:
    if len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        return f"{value[:-2]}:{value[-2:]}"
    return value
