"""Cold start: a Lambda handler's import pulls in none of the heavy libraries; each is loaded when first used."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("boto3", "botocore", "requests", "urllib3", "jinja2", "yaml", "tweepy", "css_inline", "moto")
HANDLERS = ("dispatch", "worker", "digest", "api", "collect")


def imported_after(statement: str) -> list[str]:
    """Heavy modules present in a fresh interpreter after running ``statement``."""
    probe = f"import sys, json\n{statement}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=60)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("handler", HANDLERS)
def test_importing_a_handler_loads_no_heavy_library(handler):
    assert imported_after(f"import functions.handlers.{handler}") == []


def test_the_probe_sees_a_heavy_library_when_one_is_imported():
    # The check above can fail: a heavy library imported alongside a handler shows up.
    assert "boto3" in imported_after("import functions.handlers.worker, boto3")

