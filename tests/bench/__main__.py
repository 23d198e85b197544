"""Run every benchmark of issue 8 and print one report: ``python -m tests.bench [--quick] [--json out/bench.json]``.

Not tests: nothing here asserts on time. Each target prints PASS or MISS with its figure; the
exit status is 0 either way unless ``--strict`` is given (then 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

from tests.bench import bench_audit, bench_coldstart, bench_engine, bench_requests
from tests.bench.common import ROOT, verdict


def run_all(quick: bool) -> dict[str, Any]:
    """Each benchmark's figures; ``quick`` shrinks the sizes (a smoke run, not the reported figures)."""
    sizes = "2000,10000" if quick else "10000,50000,100000"
    plan = [
        ("engine", bench_engine.main, ["--items", "10000" if quick else "100000"]),
        ("audit", bench_audit.main, ["--sizes", sizes]),
        ("requests", bench_requests.main, ["--items", "5000", "--new", "1000"] if quick else []),
        ("coldstart", bench_coldstart.main, ["--repeat", "3" if quick else "7"]),
    ]
    results: dict[str, Any] = {}
    for name, main, args in plan:
        started = time.perf_counter()
        results[name] = main(args)
        print(f"  ({time.perf_counter() - started:.0f} s)\n", flush=True)
    return results


def summary(results: dict[str, Any]) -> str:
    engine, audit, requests, cold = (results[k] for k in ("engine", "audit", "requests", "coldstart"))
    big = audit["runs"][-1]
    worst_first = max(r["first_ratio"] for r in requests["platforms"])
    worst_second = max(r["second_ratio"] for r in requests["platforms"])
    worst_cold = max(h["ratio"] for h in cold["handlers"])
    rows = [
        ("1 engine throughput", f"{engine['engine_posts_per_s']:,} posts/s (>= 20,000); "
         f"{engine['engine_vs_regex']:.2f}x one regex, {engine['engine_vs_profanity']:,}x better-profanity",
         engine["ok"]),
        ("2 full audit", f"{big['items']:,} items in {big['seconds']:.1f} s (< 60), peak {big['peak_rss_mb']:.0f} MB "
         f"(< 300), {audit['rss_mb_per_10k_last']:+.2f} MB per 10k items", audit["ok"]),
        ("3 requests / minimum", f"first run worst {worst_first:.2f}, incremental worst {worst_second:.2f} (1.00)",
         requests["ok"]),
        ("4 cold start", f"worst handler {worst_cold:.2f}x boto3's {cold['boto3_ms']:.0f} ms (< 2x)", cold["ok"]),
        ("5 S3 writes", f"{big['s3_writes']} PUTs for {big['accounts']} accounts at every size",
         audit["s3_writes_flat"]),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(["summary:"] + [f"  {name:<{width}}  {verdict(ok)}  {text}" for name, text, ok in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the benchmarks run")
    parser.add_argument("--json", type=Path, default=ROOT / "out" / "bench.json", help="where to write the figures")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    print(f"socialaudit benchmarks on {platform.python_implementation()} {platform.python_version()}, "
          f"{platform.machine()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n", flush=True)
    results = run_all(args.quick)
    print(summary(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"\nfigures written to {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    missed = [name for name, result in results.items() if not result.get("ok")]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
