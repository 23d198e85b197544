"""A full local audit: 7 platform accounts through the real connectors (sandbox), engine and S3 store (moto).

Each size runs in a fresh interpreter (``--child``), so its peak RSS (``ru_maxrss``) is that audit's
alone; the sandbox and moto run in another process (``--serve``), as the platforms and S3 would.

    python -m tests.bench.bench_audit [--sizes 10000,50000,100000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from tests.bench.common import ROOT, peak_rss_mb, verdict

BUCKET = "socialaudit-bench"
TARGET_SECONDS = 60.0
TARGET_RSS_MB = 300.0
# "Does not grow": past the bounded caches (parents of comments, 5,000 posts), each 10k more items may cost
# at most this much more peak RSS; a list of findings or items would cost several MB per 10k.
FLAT_MB_PER_10K = 1.0


def serve(items: int) -> None:
    """Sandbox with ``items`` synthetic items + moto (S3, Secrets Manager); prints where, runs until stdin closes."""
    from infra.localstack import LocalStack
    from infra.sandbox import demo_secrets, start_sandbox, synthetic_posts

    started = time.perf_counter()
    with start_sandbox(synthetic_posts(items)) as sandbox, LocalStack() as stack:
        stack.create_bucket(BUCKET)
        stack.put_secrets(demo_secrets())
        ready = {"sandbox": sandbox.url, "endpoint": stack.endpoint, "seconds": round(time.perf_counter() - started, 1)}
        print(json.dumps(ready), flush=True)
        sys.stdin.read()


def audit(sandbox_url: str, endpoint: str) -> dict[str, Any]:
    """One scheduled run over the demo accounts; wall time, peak RSS, items, requests, S3 writes."""
    import boto3

    from functions.audit import default_context_factory, run_audit
    from functions.connectors.base import SecretsProvider
    from functions.guidelines import load_engine
    from functions.runtime import http_session
    from functions.store import FindingsStore, new_run_id
    from infra.sandbox.harness import demo_accounts

    accounts = list(demo_accounts(sandbox_url).values())
    aws = {"region_name": "us-east-1", "endpoint_url": endpoint, "aws_access_key_id": "test",
           "aws_secret_access_key": "test"}
    store = FindingsStore(boto3.client("s3", **aws), BUCKET)
    secrets = SecretsProvider(boto3.client("secretsmanager", **aws))
    engine = load_engine()
    before = peak_rss_mb()
    started = time.perf_counter()
    cpu = time.process_time()
    run = run_audit(accounts, engine=engine, store=store, run_id=new_run_id(), trigger="schedule",
                    make_context=default_context_factory(secrets, max_requests=1_000_000, budget_seconds=3600,
                                                         session=http_session()))
    seconds = time.perf_counter() - started
    results = run.accounts.values()
    return {
        "status": run.status,
        "accounts": len(accounts),
        "items": sum(r.items for r in results),
        "findings": sum(r.findings for r in results),
        "requests": sum(r.requests for r in results),
        "s3_writes": store.writes,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "errors": [r.error for r in results if r.error],
    }


def one_size(items: int) -> dict[str, Any]:
    """Start the stack for ``items``, audit it in a fresh interpreter, stop the stack."""
    stack = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_audit", "--serve", str(items)], cwd=ROOT,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert stack.stdout is not None
        ready = json.loads(stack.stdout.readline())
        child = subprocess.run([sys.executable, "-m", "tests.bench.bench_audit", "--child", ready["sandbox"],
                                ready["endpoint"]], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
        if child.returncode != 0:
            raise RuntimeError(f"audit of {items} items failed:\n{child.stderr[-3000:]}")
        result = dict(json.loads(child.stdout.strip().splitlines()[-1]))
    finally:
        stack.communicate(input="", timeout=60)
    return {"size": items, "stack_seconds": ready["seconds"], **result}


def measure(sizes: list[int]) -> dict[str, Any]:
    runs = [one_size(n) for n in sizes]
    largest, smallest = runs[-1], runs[0]
    growth = largest["peak_rss_mb"] - smallest["peak_rss_mb"]
    last = runs[-2] if len(runs) > 1 else smallest
    per_10k = (largest["peak_rss_mb"] - last["peak_rss_mb"]) / max(1, (largest["items"] - last["items"]) / 10_000)
    writes_flat = len({r["s3_writes"] for r in runs}) == 1
    ok = (largest["seconds"] < TARGET_SECONDS and largest["peak_rss_mb"] < TARGET_RSS_MB and per_10k <= FLAT_MB_PER_10K
          and writes_flat and all(r["status"] == "ok" for r in runs))
    return {"runs": runs, "rss_growth_mb": round(growth, 1), "rss_mb_per_10k_last": round(per_10k, 2),
            "s3_writes_flat": writes_flat, "ok": ok}


def report(r: dict[str, Any]) -> str:
    lines = ["audit: 7 accounts, sandbox -> connectors -> engine -> S3 (moto); one fresh process per size",
             f"  {'items':>8} {'seconds':>7} {'cpu s':>6} {'peak RSS':>9} {'findings':>8} {'requests':>8} "
             f"{'S3 PUTs':>7}  status"]
    for run in r["runs"]:
        lines.append(f"  {run['items']:>8,} {run['seconds']:>7.1f} {run['cpu_seconds']:>6.1f} "
                     f"{run['peak_rss_mb']:>6.1f} MB {run['findings']:>8,} {run['requests']:>8,} "
                     f"{run['s3_writes']:>7}  {run['status']}")
    lines.append(f"  peak RSS {r['rss_growth_mb']:+.1f} MB from smallest to largest, "
                 f"{r['rss_mb_per_10k_last']:+.2f} MB per 10k items over the last step; "
                 f"S3 PUTs the same at every size: {r['s3_writes_flat']}")
    lines.append(f"  targets: < {TARGET_SECONDS:.0f} s and < {TARGET_RSS_MB:.0f} MB at the largest size, <= "
                 f"{FLAT_MB_PER_10K:.0f} MB per 10k items, PUTs O(accounts)  {verdict(r['ok'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=2, metavar=("SANDBOX", "ENDPOINT"), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return {}
    if args.child:
        result = audit(*args.child)
        print(json.dumps(result))
        return result
    result = measure([int(s) for s in args.sizes.split(",")])
    print(json.dumps(result) if args.json else report(result))
    return result


if __name__ == "__main__":
    main()
