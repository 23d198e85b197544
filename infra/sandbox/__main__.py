"""Run the sandbox on its own: ``python -m infra.sandbox [--port 8400] [--posts FILE | --synthetic N]``.

Prints the base URL; export it as ``SANDBOX_URL`` and the demo accounts file
(``infra/samples/accounts.yaml``) points every connector at it. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from infra.sandbox import Fault, start_sandbox, synthetic_posts
from infra.sandbox.server import FAULT_KINDS

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "posts.jsonl"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--posts", type=Path, default=SAMPLES, help="normalized posts (JSON Lines) to serve")
    parser.add_argument("--synthetic", type=int, default=0, help="serve N generated items instead of --posts")
    parser.add_argument("--no-shift", action="store_true", help="keep the posts' own timestamps")
    parser.add_argument("--fault", action="append", default=[], metavar="PLATFORM:ACCOUNT=KIND",
                        help=f"inject a fault into every answer for an account ({', '.join(FAULT_KINDS)})")
    args = parser.parse_args(argv)
    faults = {}
    for spec in args.fault:
        key, _, kind = spec.partition("=")
        faults[key] = Fault(kind, times=None)
    source = list(synthetic_posts(args.synthetic)) if args.synthetic else args.posts
    with start_sandbox(source, faults=faults, shift_to_now=not args.no_shift, port=args.port) as sandbox:
        print(f"sandbox serving {len(sandbox.posts)} items at {sandbox.url}")
        print(f"  export SANDBOX_URL={sandbox.url}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nrequests served:", dict(sandbox.requests))


if __name__ == "__main__":
    main()
