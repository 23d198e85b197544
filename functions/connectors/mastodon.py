"""Mastodon through its REST API: the account's statuses and each one's replies (``/context``).

``GET /api/v1/accounts/:id/statuses?limit=40&exclude_replies=true&exclude_reblogs=true`` pages
back through the Link header (``rel="next"``, max_id), from ``since_id`` = the newest status
seen; ``GET /api/v1/statuses/:id/context`` returns all replies of a tracked status in one call.
Status content is HTML; it is turned back into plain text.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from functions.connectors.base import PayloadError, PlatformAuthError, register
from functions.connectors.limits import threaded_minimum
from functions.connectors.tracking import Mark, PostRef, ThreadedConnector
from functions.model import Author, Post, format_time, parse_time


@register("mastodon")
class MastodonConnector(ThreadedConnector):
    platform = "mastodon"
    default_base_url = "https://mastodon.social"
    page_size = 40
    comment_page_size = 10_000  # /context returns the whole thread in one answer

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('access_token', 'token')}"}

    def list_posts(self, since: Mark | None, horizon: str) -> Iterator[Post]:
        if not self.account.native_id:
            raise PlatformAuthError(f"account {self.account.key!r} needs 'id': the account's numeric id")
        url: str | None = f"{self.base_url}/api/v1/accounts/{self.account.native_id}/statuses"
        params: dict[str, Any] | None = {"limit": self.page_size, "exclude_replies": "true",
                                         "exclude_reblogs": "true"}
        newest = _newest_id(since)
        if newest and params is not None:
            params["since_id"] = newest
        while url:
            page = self.fetch(url, params=params, headers=self._headers())
            if not isinstance(page.data, list):
                raise PayloadError("a statuses page that is not a list")
            for raw in page.data:
                post = self._convert(raw, None)
                if post is not None:
                    yield post
            url, params = _next_link(page.headers.get("Link", "")), None

    def list_comments(self, post: PostRef, seen: Mark | None) -> Iterator[Post]:
        page = self.fetch(f"{self.base_url}/api/v1/statuses/{post.native_id}/context", headers=self._headers())
        descendants = page.data.get("descendants") if isinstance(page.data, dict) else None
        if not isinstance(descendants, list):
            raise PayloadError("a context without a 'descendants' list")
        for raw in descendants:
            item = self._convert(raw, post.native_id)
            if item is not None:
                yield item

    def _convert(self, raw: Any, root: str | None) -> Post | None:
        try:
            return self.to_post(raw, root)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.skip(f"mastodon status {str(raw.get('id') if isinstance(raw, dict) else '')[:30]}", exc)
            return None

    def to_post(self, raw: dict[str, Any], root: str | None) -> Post:
        """Normalize a status; ``root`` is the tracked status it answers (None for the account's own)."""
        who = raw["account"]
        handle = str(who["acct"])
        parent = raw.get("in_reply_to_id")
        kind = "post" if root is None else ("comment" if parent == root else "reply")
        return Post(
            id=f"mastodon:{raw['id']}",
            platform="mastodon",
            account=self.account.account,
            kind=kind,
            author=Author(
                id=f"mastodon:user:{who['id']}",
                handle=handle,
                name=str(who.get("display_name") or ""),
                is_org=self.is_org(handle, str(who["id"])),
            ),
            text=html_to_text(str(raw["content"])),
            created_at=format_time(parse_time(raw["created_at"])),
            url=raw.get("url") or raw.get("uri"),
            parent_id=f"mastodon:{parent}" if parent and root is not None else None,
            lang=raw.get("language"),
        )

    @classmethod
    def minimum_for_account(cls, items: list[Post]) -> int:
        return threaded_minimum(items, cls.page_size, cls.comment_page_size)


def _newest_id(mark: Mark | None) -> str | None:
    if not mark or not mark["ids"]:
        return None
    return max(mark["ids"], key=lambda i: (len(i), i))


def _next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of a Link header."""
    for part in header.split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            return url.strip().lstrip("<").rstrip(">")
    return None


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.paragraphs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self.paragraphs:
                self.parts.append("\n\n")
            self.paragraphs += 1

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    """Plain text of a status's HTML: paragraphs as blank lines, <br> as newlines, tags dropped."""
    parser = _Text()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts)  # convert_charrefs already decoded the entities, exactly once
