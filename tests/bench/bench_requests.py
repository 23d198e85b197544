"""Platform requests per run against the local sandbox: requests made / the fewest the APIs allow.

A first run lists everything recent; a second, incremental run starts from the first run's cursor
after more items appeared, and must fetch only those (no page before the cursor again). The
yardstick is each connector's ``minimum_requests`` (every listing at the API's maximum page size); the
incremental run adds the fewest calls that can ask the posts tracked from earlier runs for new comments.

    python -m tests.bench.bench_requests [--items 20000] [--new 5000]
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.connectors import connector_class
from functions.model import PLATFORMS, Post
from infra.sandbox import start_sandbox, synthetic_posts
from infra.sandbox.harness import connector, demo_accounts, demo_secrets_provider
from tests.bench.common import verdict


def split_by_time(items: list[Post], new: int) -> tuple[list[Post], list[Post]]:
    """(old, new): the ``new`` most recently created items are the ones that appear between the runs."""
    ordered = sorted(items, key=lambda p: (p.created_at, p.id))
    return ordered[: len(ordered) - new], ordered[len(ordered) - new :]


def check_floor(conn: Any, tracked: int) -> int:
    """Calls needed to ask whether ``tracked`` older posts got new comments (no API reports that for free).

    One call per post, or per batch where the API takes several: X ORs conversation ids in one
    search, the Graph API (Facebook, Instagram) takes ``?ids=`` of up to 50 posts.
    """
    batch = getattr(conn, "ids_per_call", None) or conn.comment_batch_size
    return math.ceil(tracked / max(1, batch))


def one_platform(platform: str, old: list[Post], everything: list[Post], provider: Any,
                 first_url: str, second_url: str) -> dict[str, Any]:
    """Both runs of one platform's demo account; requests, minimum and items collected."""
    new_ids = {p.id for p in everything} - {p.id for p in old}
    cls = connector_class(platform)
    first = connector(demo_accounts(first_url)[platform], provider, max_requests=1_000_000)
    got_first = list(first.collect(None))
    second = connector(demo_accounts(second_url)[platform], provider, max_requests=1_000_000)
    got_second = list(second.collect(first.cursor))
    # The per-run floor: the same cursor when nothing is new (re-checking tracked posts for new comments).
    idle = connector(demo_accounts(first_url)[platform], provider, max_requests=1_000_000)
    got_idle = list(idle.collect(first.cursor))
    tracked = len((first.cursor or {}).get("tracked") or {})
    mine_new = [p for p in everything if p.platform == platform and p.id in new_ids]
    return {
        "platform": platform,
        "first_items": len(got_first),
        "first_requests": first.requests_made,
        "first_minimum": cls.minimum_requests(old),
        "second_items": len(got_second),
        "second_new": len(mine_new),
        "second_repeated": sum(1 for p in got_second if p.id not in new_ids),
        "second_requests": second.requests_made,
        "second_minimum": cls.minimum_requests(mine_new) + check_floor(second, tracked),
        "tracked": tracked,
        "idle_items": len(got_idle),
        "idle_requests": idle.requests_made,
    }


def measure(n: int, new: int) -> dict[str, Any]:
    end = datetime.now(UTC) - timedelta(hours=3)
    everything = list(synthetic_posts(n + new, end=end))
    old, _ = split_by_time(everything, new)
    provider = demo_secrets_provider()
    rows = []
    with start_sandbox(old, shift_to_now=False) as before, start_sandbox(everything, shift_to_now=False) as after:
        for platform in PLATFORMS:
            rows.append(one_platform(platform, old, everything, provider, before.url, after.url))
    for row in rows:
        row["first_ratio"] = round(row["first_requests"] / max(1, row["first_minimum"]), 3)
        row["second_ratio"] = round(row["second_requests"] / max(1, row["second_minimum"]), 3)
    ok = all(r["first_ratio"] <= 1.0 and r["second_ratio"] <= 1.0 and r["second_repeated"] == 0 for r in rows)
    return {"items": n, "new": new, "platforms": rows, "ok": ok}


def report(r: dict[str, Any]) -> str:
    lines = [f"requests: first run over {r['items']:,} items, then an incremental run after {r['new']:,} new ones",
             f"  {'platform':<10} {'items':>7} {'requests':>8} {'minimum':>7} {'ratio':>6}   "
             f"{'new':>6} {'requests':>8} {'minimum':>7} {'ratio':>6} {'repeated':>8}"]
    for row in r["platforms"]:
        lines.append(
            f"  {row['platform']:<10} {row['first_items']:>7,} {row['first_requests']:>8,} {row['first_minimum']:>7,} "
            f"{row['first_ratio']:>6.2f}   {row['second_items']:>6,} {row['second_requests']:>8,} "
            f"{row['second_minimum']:>7,} {row['second_ratio']:>6.2f} {row['second_repeated']:>8}")
    lines.append(f"  target: ratio 1.00 on both runs, no item yielded twice  {verdict(r['ok'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--new", type=int, default=5_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.items, args.new)
    print(json.dumps(result) if args.json else report(result))
    return result


if __name__ == "__main__":
    main()
