"""Cold start: the cost of importing each Lambda handler, against importing boto3 alone.

Each import runs in a fresh interpreter (no bytecode or module cache shared but the .pyc files),
timed inside it around the import statement; the figure is the median of ``--repeat`` runs.

    python -m tests.bench.bench_coldstart [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

from tests.bench.common import ROOT, median, verdict

HANDLERS = ("dispatch", "worker", "digest", "api", "collect")
TARGET_RATIO = 2.0
HEAVY = ("boto3", "botocore", "requests", "jinja2", "yaml", "tweepy", "css_inline", "moto")
_PROBE = """
import sys, time, json
started = time.perf_counter()
{statement}
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def import_once(module: str, statement: str | None = None) -> dict[str, Any]:
    """Seconds to import ``module`` (or run ``statement``) in a fresh interpreter, and the heavy libraries loaded."""
    code = _PROBE.format(statement=statement or f"import {module}", heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def import_median(module: str, repeat: int, statement: str | None = None) -> tuple[float, list[str]]:
    import_once(module, statement)  # writes any missing .pyc first, as a deployed package has them
    runs = [import_once(module, statement) for _ in range(repeat)]
    return median([r["seconds"] for r in runs]), runs[-1]["heavy"]


def measure(repeat: int) -> dict[str, Any]:
    boto3_seconds, _ = import_median("boto3", repeat)
    rows = []
    for name in HANDLERS:
        seconds, heavy = import_median(f"functions.handlers.{name}", repeat)
        rows.append({"handler": name, "ms": round(seconds * 1000, 1), "ratio": round(seconds / boto3_seconds, 2),
                     "heavy_imports": heavy})
    ok = all(r["ratio"] < TARGET_RATIO for r in rows)
    # Not part of the import: what a worker's first invocation adds to build the engine (policy read and compiled).
    engine_seconds, _ = import_median("functions.guidelines", repeat,
                                      "from functions.guidelines import load_engine; load_engine()")
    return {"repeat": repeat, "boto3_ms": round(boto3_seconds * 1000, 1), "handlers": rows,
            "engine_ready_ms": round(engine_seconds * 1000, 1), "ok": ok}


def report(r: dict[str, Any]) -> str:
    lines = [f"cold start: import time in a fresh interpreter, median of {r['repeat']}",
             f"  {'boto3 alone':<28} {r['boto3_ms']:>7.1f} ms"]
    for row in r["handlers"]:
        heavy = ", ".join(row["heavy_imports"]) or "none"
        lines.append(f"  functions.handlers.{row['handler']:<9} {row['ms']:>7.1f} ms  {row['ratio']:.2f}x boto3  "
                     f"(heavy libraries imported: {heavy})")
    lines.append(f"  target: every handler < {TARGET_RATIO:.0f}x boto3  {verdict(r['ok'])}")
    lines.append(f"  (first invocation, not import: import + load_engine() takes {r['engine_ready_ms']:.0f} ms)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.repeat)
    print(json.dumps(result) if args.json else report(result))
    return result


if __name__ == "__main__":
    main()
