"""Any number of realistic items for load tests, cloned from the demo threads with fresh ids.

``synthetic_posts(100_000)`` yields the demo organization's seven accounts with as many threads
as it takes: the same texts, authors and shapes as ``infra/samples/posts.jsonl``, new native ids
in each platform's real format, spread over ``span_days`` ending at ``end``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

from functions.model import Post
from infra.samples.build_samples import iter_items
from infra.samples.texts import THREADS


def synthetic_posts(n: int, *, end: datetime | None = None, span_days: float = 6.0) -> Iterator[Post]:
    """``n`` normalized items (posts, then their comments and replies) across all seven platforms."""
    if n <= 0:
        return
    per_round = sum(len(threads) for threads in THREADS.values())
    items_per_round = sum(1 + sum(1 + len(c[3]) for c in t[2]) for threads in THREADS.values() for t in threads)
    copies = -(-n // items_per_round)
    threads = copies * per_round
    end = end or datetime.now(UTC)
    step = timedelta(days=span_days) / max(1, threads)
    start = end - timedelta(days=span_days)
    # Comments follow their post within the gap to the next thread of the same platform.
    scale = min(1.0, step.total_seconds() * len(THREADS) / (60 * 1000))
    items = iter_items(start=start, thread_step=step, copies=copies, comment_scale=scale)
    for item, _ in islice(items, n):
        yield Post.from_dict({k: v for k, v in item.items() if not k.startswith("_")})
