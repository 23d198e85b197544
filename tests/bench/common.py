"""Shared pieces of the benchmarks: the corpus, repetition, medians, peak RSS, JSON from subprocesses."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("SOCIALAUDIT_CORPUS", ROOT.parent / "shared" / "corpus" / "posts.jsonl"))
SAMPLES = ROOT / "infra" / "samples" / "posts.jsonl"
T = TypeVar("T")


def corpus_path() -> Path:
    """The development corpus, or the demo samples when the corpus is not on this machine."""
    return CORPUS if CORPUS.exists() else SAMPLES


def repeat(items: Sequence[T], n: int) -> list[T]:
    """``items`` repeated (in order) to exactly ``n`` entries."""
    return (list(items) * (n // max(len(items), 1) + 1))[:n]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_json(module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh interpreter; its last stdout line is a JSON object."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"
