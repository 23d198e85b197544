"""The incremental walk shared by platforms: an account's new posts, then new comments on tracked posts.

The cursor is a small JSON dict::

    {"posts": {"t": "2026-11-20T14:03:00Z", "ids": ["123"]},          # newest post listed
     "tracked": {"123": {"at": "...", "url": "...", "seen": {...}}},   # recent posts, newest comment seen
     ...}                                                              # platform extras (X mentions)

A mark ``{"t", "ids"}`` is the newest creation time seen and the ids created at that second, so
items sharing a timestamp are neither skipped nor repeated. A post's mark moves only after all of
its comments were listed, and the post listing's mark only after the listing finished, so every
cursor published on the way is safe to resume from.

Platforms that can list several posts' comments in one call say so: ``comment_batch_size`` with
``list_comments_batch`` (X ORs conversation ids in one search) or ``prefetch_comments`` for the
tracked posts (Graph API ``?ids=``). A batch's marks move together, once the batch is listed.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from functions.connectors.base import HttpConnector, PayloadError
from functions.model import Post, format_time

Mark = dict[str, Any]


def native_id(post: Post) -> str:
    """The platform's own id of a normalized item (``x:123`` → ``123``)."""
    return post.id.split(":", 1)[1]


def is_new(mark: Mark | None, created_at: str, native: str) -> bool:
    """True when an item created at ``created_at`` comes after ``mark``."""
    if not mark:
        return True
    return created_at > mark["t"] or (created_at == mark["t"] and native not in mark["ids"])


def advance(mark: Mark | None, created_at: str, native: str) -> Mark:
    """The mark after also seeing this item."""
    if not mark or created_at > mark["t"]:
        return {"t": created_at, "ids": [native]}
    if created_at == mark["t"] and native not in mark["ids"]:
        return {"t": mark["t"], "ids": [*mark["ids"], native]}
    return mark


@dataclass(frozen=True)
class PostRef:
    """What listing a post's comments needs to know about the post."""

    native_id: str
    created_at: str
    url: str | None = None


@dataclass
class WalkState:
    """The cursor while a run walks it; ``dump`` gives the JSON to publish."""

    posts: Mark | None = None
    tracked: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, cursor: dict[str, Any]) -> WalkState:
        tracked = cursor.get("tracked")
        posts = cursor.get("posts")
        extra = {k: v for k, v in cursor.items() if k not in ("posts", "tracked")}
        return cls(
            posts=posts if _is_mark(posts) else None,
            tracked={k: v for k, v in tracked.items() if isinstance(v, dict)} if isinstance(tracked, dict) else {},
            extra=extra,
        )

    def seen(self, post_id: str) -> Mark | None:
        entry = self.tracked.get(post_id) or {}
        mark = entry.get("seen")
        return mark if _is_mark(mark) else None

    def track(self, ref: PostRef, seen: Mark | None, extra: dict[str, Any] | None = None) -> None:
        """Record a post's mark; ``extra`` (platform fields) replaces the previous extras, None keeps them."""
        previous = self.tracked.get(ref.native_id) or {}
        if extra is None:
            extra = {k: v for k, v in previous.items() if k not in ("at", "url", "seen")}
        self.tracked[ref.native_id] = {**extra, "at": ref.created_at, "url": ref.url, "seen": seen}

    def prune(self, oldest: str, keep: int) -> None:
        """Forget posts older than ``oldest`` and all but the ``keep`` newest."""
        recent = sorted(
            ((k, v) for k, v in self.tracked.items() if str(v.get("at", "")) >= oldest),
            key=lambda kv: str(kv[1].get("at", "")),
            reverse=True,
        )
        self.tracked = dict(recent[:keep])

    def dump(self) -> dict[str, Any]:
        return {**self.extra, "posts": self.posts, "tracked": dict(self.tracked)}


def _is_mark(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("t"), str) and isinstance(value.get("ids"), list)


class ThreadedConnector(HttpConnector):
    """A platform where the organization posts and others comment and reply under each post."""

    comment_page_size: ClassVar[int] = 100
    lookback_days: ClassVar[float] = 30.0  # first run: how far back to list posts
    track_days: ClassVar[float] = 14.0  # how long a post's comments are still collected
    max_tracked: ClassVar[int] = 50  # keeps the cursor small
    comment_batch_size: int = 1  # posts whose comments one listing can cover (see list_comments_batch)

    @abstractmethod
    def list_posts(self, since: Mark | None, horizon: str) -> Iterator[Post]:
        """The organization's posts, newest first, at least back to ``since`` or ``horizon``."""

    @abstractmethod
    def list_comments(self, post: PostRef, seen: Mark | None) -> Iterator[Post]:
        """Comments and replies on ``post`` (the walk drops those at or before ``seen``)."""

    @property
    def walked_posts(self) -> set[str]:
        """Native ids of the posts whose comments this run listed (the cursor keeps only recent ones)."""
        if not hasattr(self, "_walked"):
            self._walked: set[str] = set()
        return self._walked

    def tracked_extra(self, post_id: str) -> dict[str, Any] | None:
        """Hook: platform fields to keep with a tracked post once all its comments were listed (None: none)."""
        return None

    def prefetch_comments(self, posts: list[PostRef]) -> None:
        """Hook: fetch the comments of several tracked posts in one call, where the API allows it."""

    def option_days(self, name: str, default: float) -> float:
        """A per-account number of days from ``options`` (e.g. ``lookback_days``)."""
        try:
            return float(self.account.options.get(name, default))
        except (TypeError, ValueError):
            return default

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.context.clock(), UTC)

    def collect_items(self, cursor: dict[str, Any]) -> Iterator[Post]:
        state = WalkState.load(cursor)
        now = self.now()
        horizon = format_time(now - timedelta(days=self.option_days("lookback_days", self.lookback_days)))
        oldest_tracked = format_time(now - timedelta(days=self.option_days("track_days", self.track_days)))
        done = self.walked_posts
        yield from self._new_posts(state, horizon, done)
        older = [
            PostRef(post_id, str(entry.get("at", "")), entry.get("url"))
            for post_id, entry in state.tracked.items()
            if post_id not in done and str(entry.get("at", "")) >= oldest_tracked
        ]
        if older:
            try:
                self.prefetch_comments(older)
            except PayloadError as exc:
                self.skip("batched comments of tracked posts", exc)  # each post is then listed on its own
        size = max(1, self.comment_batch_size)
        for start in range(0, len(older), size):
            yield from self._comments_of(older[start : start + size], state)
        state.prune(oldest_tracked, self.max_tracked)
        self.cursor = state.dump()

    def _new_posts(self, state: WalkState, horizon: str, done: set[str]) -> Iterator[Post]:
        since = state.posts
        floor = max(horizon, since["t"]) if since else horizon
        newest = since
        pending: list[PostRef] = []  # posts whose comments are listed together (one batch)
        try:
            for post in self.list_posts(since, floor):
                native = native_id(post)
                if post.created_at < floor:
                    break  # newest first: everything after this is older still
                ref = PostRef(native, post.created_at, post.url)
                if not is_new(since, post.created_at, native):
                    if native in state.tracked and native not in done:  # known post: just its new comments
                        done.add(native)
                        pending.append(ref)
                else:
                    newest = advance(newest, post.created_at, native)
                    yield post
                    done.add(native)
                    pending.append(ref)
                if len(pending) >= self.comment_batch_size:
                    yield from self._comments_of(pending, state)
                    pending = []
        except PayloadError as exc:
            self.skip("post listing", exc)
            yield from self._comments_of(pending, state)
            return  # the listing's mark stays, so the next run lists these posts again
        yield from self._comments_of(pending, state)
        state.posts = newest
        self.cursor = state.dump()

    def _comments_of(self, refs: list[PostRef], state: WalkState) -> Iterator[Post]:
        """New comments of ``refs`` (one batch); their marks move only once the whole batch is listed."""
        if not refs:
            return
        seen = {ref.native_id: state.seen(ref.native_id) for ref in refs}
        newest = dict(seen)
        failed = False
        try:
            for post_id, item in self.list_comments_batch(refs, seen):
                native = native_id(item)
                if post_id not in seen or not is_new(seen[post_id], item.created_at, native):
                    continue
                newest[post_id] = advance(newest[post_id], item.created_at, native)
                yield item
        except PayloadError as exc:
            self.skip(f"comments of post(s) {', '.join(r.native_id for r in refs)[:200]}", exc)
            newest = seen  # list them again next run rather than lose any
            failed = True
        for ref in refs:
            # A failed listing keeps the post's previous extras too, so what they vouch for is re-checked.
            state.track(ref, newest[ref.native_id], None if failed else self.tracked_extra(ref.native_id) or {})
        self.cursor = state.dump()

    def list_comments_batch(self, posts: list[PostRef], seen: dict[str, Mark | None]) -> Iterator[tuple[str, Post]]:
        """(post id, comment) for several posts; one listing per post unless the platform can combine them."""
        for post in posts:
            for item in self.list_comments(post, seen.get(post.native_id)):
                yield post.native_id, item
