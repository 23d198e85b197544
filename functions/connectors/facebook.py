"""Facebook Pages through the Graph API: the page's posts and every comment and reply on them.

``GET /{page-id}/posts?since=...&limit=100`` lists posts newest first, each with its first 100
comments inlined by field expansion (``comments.filter(stream).order(reverse_chronological)
.limit(100){...}``: comments and replies in one stream, a reply carries ``parent``); only a post
with more comments than that costs further ``GET /{post-id}/comments`` pages. The comments of
posts tracked from earlier runs come in one ``GET /?ids=a,b,...`` call per 50 posts. Streams are
newest first, so a run stops at the newest comment it saw. The page access token travels in the
Authorization header; usage headers are respected.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from functions.connectors.base import PayloadError, PlatformAuthError, register
from functions.connectors.graph import GraphConnector, without_token
from functions.connectors.limits import pages, threaded_minimum
from functions.connectors.tracking import Mark, PostRef
from functions.model import Author, Post, format_time, parse_time

POST_FIELDS = "id,message,created_time,permalink_url,from{id,name}"
COMMENT_FIELDS = "id,message,created_time,permalink_url,from{id,name},parent{id}"
INLINE_LIMIT = 100
INLINE_COMMENTS = f"comments.filter(stream).order(reverse_chronological).limit({INLINE_LIMIT}){{{COMMENT_FIELDS}}}"


@register("facebook")
class FacebookConnector(GraphConnector):
    inline_comments = INLINE_COMMENTS
    platform = "facebook"
    page_size = 100
    comment_page_size = 100
    token_fields = ("page_access_token", "access_token", "token")

    def list_posts(self, since: Mark | None, horizon: str) -> Iterator[Post]:
        params = {"fields": f"{POST_FIELDS},{INLINE_COMMENTS}", "limit": self.page_size, "since": _unix(horizon)}
        for raw in self.graph_pages(self.node_url(self._page_id(), "posts"), params):
            post = self._convert(raw, None)
            if post is not None:
                # The walk lists a post's comments before asking for the next post: one block is enough.
                self._inline = {str(raw["id"]): raw.get("comments") or {"data": []}}
                yield post

    def list_comments(self, post: PostRef, seen: Mark | None) -> Iterator[Post]:
        block = self._inline.pop(post.native_id, None)
        if block is None:  # not inlined (the batch failed): list the edge itself
            params = {"filter": "stream", "order": "reverse_chronological", "fields": COMMENT_FIELDS,
                      "limit": self.comment_page_size}
            raws: Iterator[dict[str, Any]] = self.graph_pages(self.node_url(post.native_id, "comments"), params)
        else:
            raws = self._block_items(block)
        for raw in raws:
            item = self._convert(raw, post.native_id)
            if item is None:
                continue
            if seen and item.created_at < seen["t"]:
                return  # newest first: the rest was collected before (and no further page is fetched)
            yield item

    def _block_items(self, block: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """The inlined comments, then the edge's further pages through ``paging.next``."""
        if not isinstance(block.get("data"), list):
            raise PayloadError("an inlined comments block without 'data'")
        yield from (raw for raw in block["data"] if isinstance(raw, dict))
        more = (block.get("paging") or {}).get("next")
        if more:
            yield from self.graph_pages(without_token(more), {})

    def _page_id(self) -> str:
        if not self.account.native_id:
            raise PlatformAuthError(f"account {self.account.key!r} needs 'id': the numeric page id")
        return self.account.native_id

    def _convert(self, raw: dict[str, Any], post_id: str | None) -> Post | None:
        try:
            return self.to_post(raw, post_id)
        except (KeyError, TypeError, ValueError) as exc:
            self.skip(f"facebook item {str(raw.get('id'))[:40]}", exc)
            return None

    def to_post(self, raw: dict[str, Any], post_id: str | None) -> Post:
        """Normalize a page post (``post_id`` None) or a comment on post ``post_id``."""
        who = raw["from"]
        user_id = str(who["id"])
        page = user_id == self.account.native_id
        parent = (raw.get("parent") or {}).get("id")
        kind = "post" if post_id is None else ("reply" if parent else "comment")
        return Post(
            id=f"facebook:{raw['id']}",
            platform="facebook",
            account=self.account.account,
            kind=kind,
            author=Author(
                id=f"facebook:user:{user_id}",
                handle=self.account.account if page else user_id,  # Graph gives people no handle
                name=str(who.get("name") or ""),
                is_org=page or self.is_org(user_id, user_id),
            ),
            text=str(raw.get("message") or ""),
            created_at=format_time(parse_time(_iso(raw["created_time"]))),
            url=raw.get("permalink_url") or f"https://www.facebook.com/{raw['id']}",
            parent_id=None if post_id is None else f"facebook:{parent or post_id}",
            lang=None,
        )

    @classmethod
    def minimum_for_account(cls, items: list[Post]) -> int:
        """Post pages (first 100 comments inline) + the further comment pages of busier posts."""
        return threaded_minimum(items, cls.page_size, cls.comment_page_size,
                                per_post=lambda n: max(0, pages(n, cls.comment_page_size) - 1))


def _iso(value: str) -> str:
    """Graph times end in ``+0000``; make them ISO-8601 (``+00:00``)."""
    if len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        return f"{value[:-2]}:{value[-2:]}"
    return value


def _unix(moment: str) -> int:
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp())
