"""Local timing of the engine: a corpus repeated to N posts, evaluated on one core (not a test).

Example::

    python -m functions.guidelines.benchmark ../shared/corpus/posts.jsonl --items 100000
"""

from __future__ import annotations

import argparse
import time

from functions.guidelines.engine import load_engine
from functions.model import read_posts


def main(argv: list[str] | None = None) -> int:
    """Print posts per second (CPU time of this process, so other load on the machine counts less)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posts", help="posts (JSON Lines)")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--policy")
    args = parser.parse_args(argv)
    with open(args.posts, encoding="utf-8") as handle:
        posts = list(read_posts(handle))
    items = (posts * (args.items // max(len(posts), 1) + 1))[: args.items]
    engine = load_engine(args.policy)
    started = time.process_time()
    verdicts = sum(len(engine.evaluate(post)) for post in items)
    elapsed = time.process_time() - started
    print(f"{len(items)} posts in {elapsed:.2f}s CPU = {len(items) / elapsed:,.0f} posts/s "
          f"({elapsed / len(items) * 1e6:.1f} us/post), {verdicts} verdicts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
