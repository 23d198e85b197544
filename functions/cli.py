"""The ``socialaudit`` command: offline audits, engine evaluation, policy tools, on-demand runs."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from functions.model import Post, RecordError, dumps_line, utc_now

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


@contextlib.contextmanager
def _open(path: str, mode: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin if "r" in mode else sys.stdout
        return
    with open(path, mode, encoding="utf-8", newline="\n") as handle:
        yield handle


def _posts_with_errors(lines: IO[str], errors: list[str]) -> Iterator[Post]:
    """Parse posts line by line; a bad line is reported (line and field) and skipped, never fatal."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        try:
            yield Post.from_dict(data)
        except RecordError as exc:
            errors.append(str(exc.at_line(number)))


def cmd_audit(args: argparse.Namespace) -> int:
    """Audit a JSON Lines file of posts offline and write findings as JSON Lines."""
    from functions.audit import evaluate_stream
    from functions.guidelines import PolicyError, load_engine
    from functions.store import new_run_id

    try:
        engine = load_engine(args.policy)
    except PolicyError as exc:
        print(f"socialaudit: policy error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    errors: list[str] = []
    counts = {"items": 0, "findings": 0}
    run_id = args.run_id or new_run_id()
    try:
        with _open(args.input, "r") as source, _open(args.output, "w") as sink:
            posts = _posts_with_errors(source, errors)
            for finding in evaluate_stream(_counted(posts, counts), engine, run_id=run_id, detected_at=utc_now()):
                sink.write(dumps_line(finding))
                counts["findings"] += 1
    except OSError as exc:
        print(f"socialaudit: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    for message in errors:
        print(f"socialaudit: {args.input}: {message} (skipped)", file=sys.stderr)
    if not args.quiet:
        print(
            f"audited {counts['items']} items: {counts['findings']} findings"
            + (f", {len(errors)} bad lines skipped" if errors else ""),
            file=sys.stderr,
        )
    return EXIT_USAGE if errors else EXIT_OK


def _counted(posts: Iterator[Post], counts: dict[str, int]) -> Iterator[Post]:
    for post in posts:
        counts["items"] += 1
        yield post


def cmd_findings(args: argparse.Namespace) -> int:
    """List stored findings of a period, or acknowledge findings so digests stop listing them as open."""
    from datetime import date, timedelta

    from functions.config import ConfigError, Settings
    from functions.runtime import Runtime

    try:
        store = Runtime(Settings.from_env()).store
    except ConfigError as exc:
        print(f"socialaudit findings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.findings_action == "ack":
        for finding_id in args.finding_ids:
            try:
                store.acknowledge_finding(finding_id, by=args.by, note=args.note)
            except ValueError as exc:
                print(f"socialaudit findings ack: {exc}", file=sys.stderr)
                return EXIT_USAGE
        print(f"acknowledged {len(args.finding_ids)} finding(s)", file=sys.stderr)
        return EXIT_OK
    try:
        until = date.fromisoformat(args.until) if args.until else date.today() + timedelta(days=1)
        since = date.fromisoformat(args.since) if args.since else until - timedelta(days=7)
    except ValueError as exc:
        print(f"socialaudit findings list: {exc} (dates are YYYY-MM-DD)", file=sys.stderr)
        return EXIT_USAGE
    acknowledged = store.acknowledged_ids() if args.open else set()
    for finding in store.iter_findings(since, until, accounts=args.accounts or None):
        if args.category and finding.category not in args.category:
            continue
        if finding.finding_id in acknowledged:
            continue
        sys.stdout.write(dumps_line(finding))
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from functions.guidelines import commands

    return int(commands.cmd_evaluate(args))


def cmd_policy(args: argparse.Namespace) -> int:
    from functions.guidelines import commands

    return int(commands.cmd_policy(args))


def cmd_run(args: argparse.Namespace) -> int:
    from functions import remote

    return int(remote.cmd_run(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="socialaudit", description="Audit social-media posts against the Alliance for CME guidelines."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    audit = sub.add_parser("audit", help="audit a JSON Lines file of posts offline")
    audit.add_argument("--input", "-i", required=True, help="posts (JSON Lines), or - for stdin")
    audit.add_argument("--output", "-o", default="-", help="findings (JSON Lines), or - for stdout (default)")
    audit.add_argument("--policy", help="policy file (default: the Alliance for CME policy)")
    audit.add_argument("--run-id", help="run id to stamp on findings (default: a new one)")
    audit.add_argument("--quiet", "-q", action="store_true", help="no summary on stderr")
    audit.set_defaults(func=cmd_audit)

    findings = sub.add_parser("findings", help="list or acknowledge stored findings (SOCIALAUDIT_* settings)")
    actions = findings.add_subparsers(dest="findings_action", required=True)
    listing = actions.add_parser("list", help="findings detected in a period, as JSON Lines")
    listing.add_argument("--since", help="first day, YYYY-MM-DD (default: 7 days before --until)")
    listing.add_argument("--until", help="day after the last, YYYY-MM-DD (default: tomorrow)")
    listing.add_argument("--account", action="append", dest="accounts", metavar="KEY", help="account key (repeatable)")
    listing.add_argument("--category", action="append", metavar="ID", help="category id (repeatable)")
    listing.add_argument("--open", action="store_true", help="only findings nobody has acknowledged")
    ack = actions.add_parser("ack", help="mark findings as handled; digests stop listing them as still open")
    ack.add_argument("finding_ids", nargs="+", metavar="FINDING_ID")
    ack.add_argument("--by", required=True, help="who handled them (name or e-mail)")
    ack.add_argument("--note", help="what was done, e.g. 'hidden on Facebook'")
    findings.set_defaults(func=cmd_findings)

    evaluate = sub.add_parser("evaluate", help="score the engine on a labelled corpus")
    policy = sub.add_parser("policy", help="test or show the guideline policy")
    run = sub.add_parser("run", help="start or inspect on-demand audits (AWS or the local stack)")
    _add_optional(evaluate, "functions.guidelines.commands", "add_evaluate_arguments", cmd_evaluate)
    _add_optional(policy, "functions.guidelines.commands", "add_policy_arguments", cmd_policy)
    _add_optional(run, "functions.remote", "add_run_arguments", cmd_run)
    return parser


def _add_optional(parser: argparse.ArgumentParser, module: str, adder: str, func: Any) -> None:
    import importlib

    try:
        getattr(importlib.import_module(module), adder)(parser)
    except (ImportError, AttributeError) as exc:
        parser.set_defaults(func=lambda _args, exc=exc: _unavailable(parser.prog, exc))
        return
    parser.set_defaults(func=func)


def _unavailable(prog: str, exc: Exception) -> int:
    print(f"{prog}: not available in this build ({exc})", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
