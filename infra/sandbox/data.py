"""The sandbox's data: normalized posts indexed once, so every page is served without scanning.

Each platform keeps its accounts (the organization's own posts, newest first), the children of
every item, every conversation (all descendants of a post), and X mentions. Lists are sorted once
at start; a request slices them by offset or bisects them by time or id.
"""

from __future__ import annotations

import base64
import bisect
import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from functions.model import Post, format_time, parse_time


def native(post: Post) -> str:
    """The platform's own id (``x:123`` → ``123``)."""
    return post.id.split(":", 1)[1]


def user_native(post: Post) -> str:
    """The platform's own id of the author (``x:user:42`` → ``42``)."""
    return post.author.id.split(":user:", 1)[-1]


def encode_cursor(offset: int) -> str:
    """An opaque page token for an offset (platforms never promise what is inside)."""
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_cursor(token: str | None) -> int:
    """The offset inside a page token; a foreign or broken token starts at 0."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        return max(0, int(raw[1:])) if raw.startswith("o") else 0
    except (ValueError, UnicodeDecodeError):
        return 0


@dataclass
class Account:
    """One organization account on one platform, with its own posts newest first."""

    platform: str
    name: str
    owner: Post  # one of the organization's posts, for the owner's author record
    posts: list[Post] = field(default_factory=list)  # newest first
    mentions: list[Post] = field(default_factory=list)  # X: mentions and replies to the account, newest first

    @property
    def native_id(self) -> str:
        return user_native(self.owner)


class SortedByTime:
    """Posts newest first, with bisection by creation time."""

    def __init__(self, posts: Sequence[Post]):
        self.posts = sorted(posts, key=lambda p: (p.created_at, p.id), reverse=True)
        self._keys = [negated(p.created_at) for p in self.posts]

    def newer_than(self, moment: str) -> list[Post]:
        """Posts created strictly after ``moment`` (ISO), newest first."""
        return self.posts[: bisect.bisect_left(self._keys, negated(moment))]

    def at_or_before(self, moment: str) -> int:
        """Offset of the first post created at or before ``moment``."""
        return bisect.bisect_left(self._keys, negated(moment))


def negated(moment: str) -> tuple[int, ...]:
    """A sort key that orders ISO times newest first."""
    # Lists are newest first; bisect wants ascending keys, so compare negated code points.
    return tuple(-ord(c) for c in moment)


@dataclass
class PlatformData:
    """Everything the sandbox serves for one platform."""

    platform: str
    items: dict[str, Post] = field(default_factory=dict)  # by native id
    accounts: dict[str, Account] = field(default_factory=dict)  # by account name
    by_owner: dict[str, Account] = field(default_factory=dict)  # by the owner's native user id
    children: dict[str, list[Post]] = field(default_factory=lambda: defaultdict(list))  # oldest first
    threads: dict[str, list[Post]] = field(default_factory=lambda: defaultdict(list))  # root -> descendants
    root_of: dict[str, str] = field(default_factory=dict)
    account_of: dict[str, str] = field(default_factory=dict)  # native id -> account name

    def account_for_user(self, user: str) -> Account | None:
        """The account whose owner has native id or handle ``user``."""
        found = self.by_owner.get(user)
        if found:
            return found
        lowered = user.lower().lstrip("@")
        for account in self.accounts.values():
            if account.owner.author.handle.lower() == lowered or account.name.lower() == lowered:
                return account
        return None


class Dataset:
    """The indexed posts of every platform."""

    def __init__(self, posts: Iterable[Post]):
        self.platforms: dict[str, PlatformData] = {}
        pending: dict[str, list[Post]] = defaultdict(list)
        for post in posts:
            data = self.platforms.setdefault(post.platform, PlatformData(post.platform))
            data.items[native(post)] = post
            pending[post.platform].append(post)
        for platform, items in pending.items():
            _index(self.platforms[platform], items)

    def platform(self, name: str) -> PlatformData:
        return self.platforms.get(name) or PlatformData(name)

    def __len__(self) -> int:
        return sum(len(p.items) for p in self.platforms.values())


def _index(data: PlatformData, items: list[Post]) -> None:
    own_posts: dict[str, list[Post]] = defaultdict(list)
    for post in items:
        if post.kind == "post":
            own_posts[post.account].append(post)
        elif post.parent_id:
            data.children[post.parent_id.split(":", 1)[1]].append(post)
    for name, posts in own_posts.items():
        owners = Counter(p.author.id for p in posts)
        owner_id = owners.most_common(1)[0][0]
        owner = next(p for p in posts if p.author.id == owner_id)
        account = Account(data.platform, name, owner, SortedByTime(posts).posts)
        data.accounts[name] = account
        data.by_owner[account.native_id] = account
    for kids in data.children.values():
        kids.sort(key=lambda p: (p.created_at, p.id))
    for post in items:
        root = _root(data, post)
        data.root_of[native(post)] = root
        data.account_of[native(post)] = post.account
        if root != native(post):
            data.threads[root].append(post)
    for thread in data.threads.values():
        thread.sort(key=lambda p: (p.created_at, p.id))
    for account in data.accounts.values():
        handle = "@" + account.owner.author.handle.lower()
        mentions = [
            p
            for p in items
            if p.account == account.name
            and p.kind != "post"
            and p.author.id != account.owner.author.id
            and (handle in p.text.lower() or _parent_author(data, p) == account.owner.author.id)
        ]
        account.mentions = SortedByTime(mentions).posts


def _root(data: PlatformData, post: Post) -> str:
    current, seen = post, set()
    while current.parent_id and current.id not in seen:
        seen.add(current.id)
        parent = data.items.get(current.parent_id.split(":", 1)[1])
        if parent is None:
            break
        current = parent
    return native(current)


def _parent_author(data: PlatformData, post: Post) -> str | None:
    parent = data.items.get(post.parent_id.split(":", 1)[1]) if post.parent_id else None
    return parent.author.id if parent else None


def shift_to_now(posts: list[Post], *, now: datetime, hours_before: float = 3.0) -> list[Post]:
    """The same posts moved in time so the newest is ``hours_before`` before ``now``."""
    if not posts:
        return posts
    newest = max(parse_time(p.created_at) for p in posts)
    delta = (now - timedelta(hours=hours_before)) - newest
    delta = timedelta(seconds=int(delta.total_seconds()))
    return [dataclasses.replace(p, created_at=format_time(parse_time(p.created_at) + delta)) for p in posts]
