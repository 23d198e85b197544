"""The fewest requests a platform's API allows for listing a set of items, for the benchmark's ratio."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

from functions.model import Post


def roots_and_posts(items: Iterable[Post]) -> tuple[int, Counter[str], dict[str, str], list[Post]]:
    """Number of posts, descendants per post, each item's parent, and the non-post items."""
    items = list(items)
    parent_of = {p.id: p.parent_id for p in items if p.parent_id}
    posts = {p.id for p in items if p.kind == "post"}
    per_post: Counter[str] = Counter({pid: 0 for pid in posts})
    others = []
    for item in items:
        if item.kind == "post":
            continue
        others.append(item)
        root, seen = item.id, set()
        while root in parent_of and root not in seen:
            seen.add(root)
            root = parent_of[root]  # type: ignore[assignment]
        if root in posts:
            per_post[root] += 1
    return len(posts), per_post, {k: v for k, v in parent_of.items() if v}, others


def pages(count: int, size: int) -> int:
    """Requests to list ``count`` items at ``size`` per page (an empty listing still costs one)."""
    return max(1, math.ceil(count / size))


def threaded_minimum(
    items: Iterable[Post],
    post_page: int,
    comment_page: int,
    *,
    extra_listings: int = 0,
    per_post: Callable[[int], int] | None = None,
) -> int:
    """Post pages + per post the comment listing (``per_post(n)``, default pages of ``comment_page``)."""
    n_posts, descendants, _, _ = roots_and_posts(items)
    cost = per_post or (lambda n: pages(n, comment_page))
    return pages(n_posts, post_page) + sum(cost(n) for n in descendants.values()) + extra_listings
