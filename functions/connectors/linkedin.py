"""LinkedIn organization pages through the versioned REST API (``LinkedIn-Version``, Rest.li 2.0).

``GET /rest/posts?q=author&author=urn:li:organization:N&sortBy=CREATED&count=100`` lists the
organization's posts newest first; ``GET /rest/socialActions/{post urn}/comments?count=100`` its
comments, each with ``commentsSummary``; replies (LinkedIn nests one level) come from
``/rest/socialActions/{comment urn}/comments``, fetched only for comments with replies not seen yet.
The ``actor~`` projection decorates each comment with its author's name and vanity name.

The comments listing reports each comment's reply count (``commentsSummary.totalFirstLevelComments``)
but no time of its latest reply, so the cursor keeps, per tracked post, the count each comment with
replies had when its replies were last listed (``"replies": {comment id: count}``, the newest
``max_reply_counts`` comments); a later run re-lists a comment's replies only when its count grew. A
comment missing from that map counts as 0, so dropping entries (bounds, a cursor from an older
version) costs calls, never a reply; a failed listing keeps the post's previous map.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple
from urllib.parse import quote

from functions.connectors.base import PayloadError, PlatformAuthError, register
from functions.connectors.limits import pages, roots_and_posts
from functions.connectors.tracking import Mark, PostRef, ThreadedConnector
from functions.model import Author, Post, format_time

ACTOR_PROJECTION = "(elements*(*,actor~(localizedFirstName,localizedLastName,localizedName,vanityName)))"


class Replied(NamedTuple):
    """A comment with replies as one run left it: how many replies, and when the comment was made (ms)."""

    replies: int
    created: int


@register("linkedin")
class LinkedInConnector(ThreadedConnector):
    platform = "linkedin"
    default_base_url = "https://api.linkedin.com"
    api_version: ClassVar[str] = "202411"
    page_size = 100
    comment_page_size = 100
    max_reply_counts: ClassVar[int] = 50  # per tracked post: comments whose reply count the cursor keeps

    def collect_items(self, cursor: dict[str, Any]) -> Iterator[Post]:
        tracked = cursor.get("tracked")
        self._known = {post_id: _reply_counts(entry.get("replies"))
                       for post_id, entry in (tracked.items() if isinstance(tracked, dict) else ())
                       if isinstance(entry, dict)}
        self._listed: dict[str, dict[str, Replied]] = {}
        yield from super().collect_items(cursor)

    def tracked_extra(self, post_id: str) -> dict[str, Any] | None:
        """The post's reply counts, newest comments first, at most ``max_reply_counts`` of them."""
        listed = sorted(self._listed.pop(post_id, {}).items(), key=lambda kv: kv[1].created, reverse=True)
        return {"replies": {key: r.replies for key, r in listed[: self.max_reply_counts]}} if listed else {}

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.credential('access_token', 'token')}",
            "LinkedIn-Version": str(self.account.options.get("api_version", self.api_version)),
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def _elements(self, path: str, params: dict[str, Any], size: int) -> Iterator[dict[str, Any]]:
        """Every element of a Rest.li collection, paging by ``start``/``count``."""
        start = 0
        while True:
            page = self.fetch(f"{self.base_url}{path}", params={**params, "start": start, "count": size},
                              headers=self._headers()).data
            elements = page.get("elements") if isinstance(page, dict) else None
            if not isinstance(elements, list):
                raise PayloadError("a collection without 'elements'")
            for element in elements:
                if isinstance(element, dict):
                    yield element
            links = (page.get("paging") or {}).get("links") or []
            if len(elements) < size or not any(link.get("rel") == "next" for link in links if isinstance(link, dict)):
                return
            start += size

    def list_posts(self, since: Mark | None, horizon: str) -> Iterator[Post]:
        if not self.account.native_id:
            raise PlatformAuthError(f"account {self.account.key!r} needs 'id': the organization URN")
        params = {"q": "author", "author": self.account.native_id, "sortBy": "CREATED"}
        for raw in self._elements("/rest/posts", params, self.page_size):
            post = self._convert(raw, None)
            if post is not None:
                yield post

    def list_comments(self, post: PostRef, seen: Mark | None) -> Iterator[Post]:
        known = getattr(self, "_known", {}).get(post.native_id, {})
        listed: dict[str, Replied] = {}
        for raw in self._comments(post.native_id):
            comment = self._convert(raw, post.native_id)
            if comment is None:
                continue
            yield comment
            count = _reply_count(raw)
            if count <= 0:
                continue
            key, created = _comment_key(raw), int(raw["created"]["time"])
            if count <= known.get(key, 0):  # no reply since they were last listed
                listed[key] = Replied(count, created)
                continue
            got = 0
            for nested in self._comments(str(raw["commentUrn"])):
                got += 1
                reply = self._convert(nested, post.native_id)
                if reply is not None:
                    yield reply
            listed[key] = Replied(got, created)  # what was listed: a reply that came meanwhile counts as seen
        if hasattr(self, "_listed"):
            self._listed[post.native_id] = listed

    def _comments(self, urn: str) -> Iterator[dict[str, Any]]:
        path = f"/rest/socialActions/{quote(urn, safe='')}/comments"
        return self._elements(path, {"projection": ACTOR_PROJECTION}, self.comment_page_size)

    def _convert(self, raw: dict[str, Any], post_urn: str | None) -> Post | None:
        try:
            return self.to_post(raw, post_urn) if post_urn else self.post_of(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.skip(f"linkedin element {str(raw.get('id'))[:60]}", exc)
            return None

    def post_of(self, raw: dict[str, Any]) -> Post:
        """Normalize one of the organization's posts."""
        urn = str(raw["id"])
        author = str(raw["author"])
        return Post(
            id=f"linkedin:{urn}",
            platform="linkedin",
            account=self.account.account,
            kind="post",
            author=Author(id=f"linkedin:user:{author}", handle=self.account.account, name=self.account.account,
                          is_org=True),
            text=str(raw.get("commentary") or ""),
            created_at=_from_ms(raw.get("createdAt") or raw["publishedAt"]),
            url=f"https://www.linkedin.com/feed/update/{urn}/",
            parent_id=None,
            lang=None,
        )

    def to_post(self, raw: dict[str, Any], post_urn: str) -> Post:
        """Normalize a comment (or a reply: it has ``parentComment``) on post ``post_urn``."""
        urn = str(raw["commentUrn"])
        actor = str(raw["actor"])
        decoration = raw.get("actor~") or {}
        own = actor == self.account.native_id
        handle = self.account.account if own else str(decoration.get("vanityName") or actor.rsplit(":", 1)[-1])
        name = decoration.get("localizedName") or " ".join(
            part for part in (decoration.get("localizedFirstName"), decoration.get("localizedLastName")) if part
        )
        parent = raw.get("parentComment")
        return Post(
            id=f"linkedin:{urn}",
            platform="linkedin",
            account=self.account.account,
            kind="reply" if parent else "comment",
            author=Author(id=f"linkedin:user:{actor}", handle=handle, name=str(name or ""),
                          is_org=own or self.is_org(handle, actor)),
            text=str(raw["message"]["text"]),
            created_at=_from_ms(raw["created"]["time"]),
            url=f"https://www.linkedin.com/feed/update/{post_urn}/?commentUrn={quote(urn, safe='')}",
            parent_id=f"linkedin:{parent or post_urn}",
            lang=None,
        )

    @classmethod
    def minimum_for_account(cls, items: list[Post]) -> int:
        """Post pages + per post its comment pages + per comment with replies among ``items`` their pages.

        A reply's comment needs its own listing even when the comment itself is older than ``items``
        (an incremental run's new reply to an old comment): LinkedIn lists replies only per comment.
        """
        items = list(items)
        n_posts, _, _, others = roots_and_posts(items)
        comments: Counter[str] = Counter(p.parent_id for p in others if p.kind == "comment" and p.parent_id)
        nested = {p.id for p in others if p.kind == "reply"}  # LinkedIn nests one level: no listing per reply
        replies: Counter[str] = Counter(p.parent_id for p in others
                                        if p.kind == "reply" and p.parent_id and p.parent_id not in nested)
        posts = [p.id for p in items if p.kind == "post"]
        return (pages(n_posts, cls.page_size) + sum(pages(comments[p], cls.comment_page_size) for p in posts)
                + sum(pages(n, cls.comment_page_size) for n in replies.values()))


def _reply_count(raw: dict[str, Any]) -> int:
    """Replies the comments listing reports for a comment (0 when it says nothing usable)."""
    try:
        return int((raw.get("commentsSummary") or {}).get("totalFirstLevelComments") or 0)
    except (TypeError, ValueError, AttributeError):
        return 0


def _comment_key(raw: dict[str, Any]) -> str:
    """A comment's short id within its post (the numeric ``id``; the URN if there is none)."""
    return str(raw.get("id") or raw["commentUrn"])


def _reply_counts(value: Any) -> dict[str, int]:
    """The reply counts a cursor kept for one post; anything malformed counts as 0 (its replies are listed)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool) and v > 0}


def _from_ms(value: Any) -> str:
    return format_time(datetime.fromtimestamp(int(value) / 1000, UTC))
