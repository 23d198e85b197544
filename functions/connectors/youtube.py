"""YouTube Data API v3: the channel's uploads and their comment threads, with the quota kept per run.

``playlistItems.list`` on the uploads playlist (``UU`` + the channel id without ``UC``, saving a
``channels.list`` call) at ``maxResults=50``; ``commentThreads.list?part=snippet,replies&order=time
&maxResults=100`` per tracked video (threads carry up to five replies); ``comments.list?parentId=``
only for threads with more replies than that. Every list call costs one quota unit
(``QUOTA_COST``); ``self.quota_used`` counts them and an account's ``options.quota_budget`` caps
them. YouTube has no "since" on comments, so a tracked video's threads are listed again each run
and only new comments are yielded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from functions.connectors.base import BudgetExhausted, PayloadError, PlatformAuthError, register
from functions.connectors.limits import pages, roots_and_posts
from functions.connectors.tracking import Mark, PostRef, ThreadedConnector
from functions.model import Author, Post, format_time, parse_time

QUOTA_COST = {"channels": 1, "playlistItems": 1, "commentThreads": 1, "comments": 1, "videos": 1, "search": 100}
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
AUTH_REASONS = {"keyInvalid", "keyExpired", "authError", "forbidden", "insufficientPermissions", "API_KEY_INVALID",
                "API_KEY_EXPIRED", "ACCESS_TOKEN_EXPIRED", "CREDENTIALS_MISSING"}
INLINE_REPLIES = 5


@register("youtube")
class YouTubeConnector(ThreadedConnector):
    platform = "youtube"
    default_base_url = "https://www.googleapis.com"
    page_size = 50
    comment_page_size = 100
    daily_quota: ClassVar[int] = 10_000

    def __init__(self, account: Any, context: Any):
        super().__init__(account, context)
        self.quota_used = 0

    def _headers(self) -> dict[str, str]:
        secret = self.context.secrets.get(self.account.secret) if self.account.secret else {}
        if secret.get("access_token"):
            return {"Authorization": f"Bearer {self.credential('access_token')}"}
        return {"X-Goog-Api-Key": self.credential("api_key", "key", "token")}

    def _list(self, resource: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item of a ``<resource>.list`` call, following ``nextPageToken``."""
        budget = int(self.account.options.get("quota_budget", self.daily_quota))
        token: str | None = None
        while True:
            if self.quota_used + QUOTA_COST[resource] > budget:
                raise BudgetExhausted(f"YouTube quota budget of {budget} units spent")
            query = {**params, **({"pageToken": token} if token else {})}
            self.quota_used += QUOTA_COST[resource]
            page = self.fetch(f"{self.base_url}/youtube/v3/{resource}", params=query, headers=self._headers()).data
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise PayloadError(f"a {resource} answer without 'items'")
            for item in page["items"]:
                if isinstance(item, dict):
                    yield item
            token = page.get("nextPageToken")
            if not token:
                return

    def list_posts(self, since: Mark | None, horizon: str) -> Iterator[Post]:
        channel = self.account.native_id or ""
        if not channel.startswith("UC"):
            raise PlatformAuthError(f"account {self.account.key!r} needs 'id': the channel id (UC...)")
        playlist = str(self.account.options.get("uploads_playlist") or "UU" + channel[2:])
        params = {"part": "snippet,contentDetails", "playlistId": playlist, "maxResults": self.page_size}
        for raw in self._list("playlistItems", params):
            if not (raw.get("contentDetails") or {}).get("videoPublishedAt"):
                continue  # a private or deleted video: nothing public to audit
            post = self._convert(self.video_of, raw)
            if post is not None:
                yield post

    def list_comments(self, post: PostRef, seen: Mark | None) -> Iterator[Post]:
        params = {"part": "snippet,replies", "videoId": post.native_id, "maxResults": self.comment_page_size,
                  "order": "time", "textFormat": "plainText"}
        for thread in self._list("commentThreads", params):
            snippet = thread.get("snippet") or {}
            top = self._convert(self.comment_of, snippet.get("topLevelComment"), post)
            if top is None:
                continue
            yield top
            inline = (thread.get("replies") or {}).get("comments") or []
            total = int(snippet.get("totalReplyCount") or 0)
            if total > len(inline):
                inline = self._list("comments", {"part": "snippet", "parentId": thread.get("id"),
                                                 "maxResults": self.comment_page_size, "textFormat": "plainText"})
            for raw in inline:
                reply = self._convert(self.comment_of, raw, post)
                if reply is not None:
                    yield reply

    def _convert(self, build: Any, raw: Any, *args: Any) -> Post | None:
        try:
            return build(raw, *args)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.skip(f"youtube item {str(raw.get('id') if isinstance(raw, dict) else '')[:40]}", exc)
            return None

    def video_of(self, raw: dict[str, Any]) -> Post:
        """Normalize an uploads playlist item (title and description make the text)."""
        snippet, details = raw["snippet"], raw["contentDetails"]
        video = str(details["videoId"])
        channel = str(snippet.get("videoOwnerChannelId") or snippet["channelId"])
        text = str(snippet["title"]) + (f"\n\n{snippet['description']}" if snippet.get("description") else "")
        return Post(
            id=f"youtube:{video}",
            platform="youtube",
            account=self.account.account,
            kind="post",
            author=Author(id=f"youtube:user:{channel}", handle=self.account.account,
                          name=str(snippet.get("channelTitle") or ""), is_org=True),
            text=text,
            created_at=format_time(parse_time(details["videoPublishedAt"])),
            url=f"https://www.youtube.com/watch?v={video}",
            parent_id=None,
            lang=None,
        )

    def comment_of(self, raw: dict[str, Any], post: PostRef) -> Post:
        """Normalize a top-level comment or a reply (it has ``parentId``) under video ``post``."""
        snippet = raw["snippet"]
        channel = str(snippet["authorChannelId"]["value"])
        handle = str(snippet["authorDisplayName"]).lstrip("@")
        parent = snippet.get("parentId")
        return Post(
            id=f"youtube:{raw['id']}",
            platform="youtube",
            account=self.account.account,
            kind="reply" if parent else "comment",
            author=Author(id=f"youtube:user:{channel}", handle=handle, name=handle,
                          is_org=self.is_org(handle, channel)),
            text=str(snippet.get("textOriginal") or snippet["textDisplay"]),
            created_at=format_time(parse_time(snippet["publishedAt"])),
            url=f"https://www.youtube.com/watch?v={post.native_id}&lc={raw['id']}",
            parent_id=f"youtube:{parent or post.native_id}",
            lang=None,
        )

    def rate_limit_wait(self, response: Any, *, now: float) -> float | None:
        reason = _reason(response)
        if response.status_code == 403 and reason in QUOTA_REASONS:
            return _until_pacific_midnight(now)  # the daily quota resets at midnight Pacific time
        if response.status_code in (403, 429) and reason in RATE_REASONS:
            return super().rate_limit_wait(response, now=now) if response.status_code == 429 else 60.0
        return super().rate_limit_wait(response, now=now)

    def check_auth(self, response: Any) -> None:
        if response.status_code in (401, 403) or (response.status_code == 400 and _reasons(response) & AUTH_REASONS):
            raise PlatformAuthError(
                f"youtube refused the credentials of account {self.account.key!r} "
                f"(HTTP {response.status_code}, {_reason(response) or 'no reason'})"
            )

    @classmethod
    def minimum_for_account(cls, items: list[Post]) -> int:
        """Playlist pages + per video its thread pages + per thread with over 5 replies its reply pages."""
        items = list(items)
        n_posts, per_post, _, others = roots_and_posts(items)
        replies: dict[str, int] = {}
        for item in others:
            if item.kind == "reply" and item.parent_id:
                replies[item.parent_id] = replies.get(item.parent_id, 0) + 1
        per_video = {pid: 0 for pid in per_post}
        for item in others:
            if item.kind == "comment" and item.parent_id in per_video:
                per_video[item.parent_id] += 1
        return (pages(n_posts, cls.page_size) + sum(pages(n, cls.comment_page_size) for n in per_video.values())
                + sum(pages(n, cls.comment_page_size) for n in replies.values() if n > INLINE_REPLIES))


def _reason(response: Any) -> str | None:
    """The first ``errors[].reason`` of a Google API error body."""
    try:
        errors = response.json().get("error", {}).get("errors") or []
    except (ValueError, AttributeError):
        return None
    return str(errors[0].get("reason")) if errors and isinstance(errors[0], dict) else None


def _reasons(response: Any) -> set[str]:
    """Every reason in a Google API error body: ``errors[].reason`` and ``details[].reason`` (ErrorInfo)."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return set()
    entries = [*(error.get("errors") or []), *(error.get("details") or [])]
    return {str(e.get("reason")) for e in entries if isinstance(e, dict) and e.get("reason")}


def _until_pacific_midnight(now: float) -> float:
    from zoneinfo import ZoneInfo

    pacific = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo("America/Los_Angeles"))
    midnight = (pacific + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - pacific).total_seconds()
