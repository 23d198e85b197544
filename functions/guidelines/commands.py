"""CLI entry points of the guideline engine, called by ``functions.cli``: ``evaluate`` and ``policy``.

Example::

    socialaudit evaluate --input posts.jsonl --labels labels.jsonl --json
    socialaudit policy test --policy my-org.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from functions.guidelines.engine import load_engine
from functions.guidelines.examples import run_examples
from functions.guidelines.policy import PolicyError
from functions.guidelines.scoring import format_report, read_labels, score
from functions.model import Post, RecordError, read_posts


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``socialaudit evaluate``."""
    parser.add_argument("--input", required=True, help="posts (JSON Lines, corpus format)")
    parser.add_argument("--labels", required=True, help="labels (JSON Lines: id, categories, note)")
    parser.add_argument("--policy", help="policy file (default: the Alliance for CME policy)")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--quiet", action="store_true", help="do not list the mistakes")


def _read_inputs(posts_path: str, labels_path: str) -> tuple[list[Post], dict]:
    with open(posts_path, encoding="utf-8") as handle:
        try:
            posts = list(read_posts(handle))
        except RecordError as exc:
            raise RecordError(f"{posts_path}: {exc}") from None
    with open(labels_path, encoding="utf-8") as handle:
        try:
            labels = read_labels(handle)
        except RecordError as exc:
            raise RecordError(f"{labels_path}: {exc}") from None
    known = {p.id for p in posts}
    missing = [i for i in labels if i not in known]
    if missing:
        raise RecordError(f"{labels_path}: label for an id not in {posts_path}: {missing[0][:80]!r}", field="id")
    return posts, labels


def _input_error(command: str, exc: RecordError | OSError) -> int:
    """Report a labelled set that cannot be used (unreadable, or a bad line named); exit code 2."""
    if isinstance(exc, OSError):
        print(f"socialaudit {command}: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
    else:
        print(f"socialaudit {command}: bad input: {exc}", file=sys.stderr)
    return 2


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the engine on a labelled corpus; 0 when it ran, 2 on bad input or policy."""
    try:
        engine = load_engine(args.policy)
        posts, labels = _read_inputs(args.input, args.labels)
    except PolicyError as exc:
        print(f"socialaudit evaluate: policy error: {exc}", file=sys.stderr)
        return 2
    except (RecordError, OSError) as exc:
        return _input_error("evaluate", exc)
    report = score(engine, posts, labels)
    if args.json:
        data = report.to_dict()
        data.update(policy=engine.policy_name, policy_version=engine.policy_version)
        print(json.dumps(data, indent=2))
    else:
        print(f"policy {engine.policy_name} ({engine.policy_version}) on {Path(args.input).name}")
        print(format_report(report, show_mistakes=not getattr(args, "quiet", False)))
    return 0


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """Subcommands of ``socialaudit policy``: ``test`` and ``show``."""
    sub = parser.add_subparsers(dest="policy_command", required=True)
    for name, text in (("test", "run every rule's examples and the whole-policy examples"),
                       ("show", "list the rules with category, severity, action and clause")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--policy", help="policy file (default: the Alliance for CME policy)")
    train = sub.add_parser("train", help="train the learned evaluator's model on labelled sets")
    train.add_argument("--set", dest="sets", nargs=2, action="append", required=True, metavar=("POSTS", "LABELS"),
                       help="a labelled set (JSON Lines posts and labels); repeat for several")
    train.add_argument("--out", required=True, help="model file to write (JSON)")


def cmd_policy(args: argparse.Namespace) -> int:
    """``policy test`` (exit 1 on a failing example), ``policy show`` or ``policy train``; exit 2 on bad input."""
    if args.policy_command == "train":
        return _train(args.sets, args.out)
    try:
        engine = load_engine(args.policy)
    except PolicyError as exc:
        print(f"socialaudit policy: policy error: {exc}", file=sys.stderr)
        return 2
    if args.policy_command == "show":
        return _show(engine)
    failures = run_examples(engine)
    total = sum(len(r.must_match) + len(r.must_not_match) for r in engine.policy.rules) + len(engine.policy.examples)
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"{engine.policy_name} ({engine.policy_version}): {total - len(failures)}/{total} examples pass, "
          f"{len(engine.policy.rules)} rules")
    return 1 if failures else 0


def _show(engine) -> int:  # type: ignore[no-untyped-def]
    print(f"policy {engine.policy_name} version {engine.policy_version} ({engine.policy.source})")
    for rule in sorted(engine.policy.rules, key=lambda r: r.id):
        print(f"{rule.id}\n  category {rule.category}  severity {rule.severity}  action {rule.action}"
              f"  detector {rule.detector_name}")
        print(textwrap.indent(textwrap.fill(rule.clause, 100), "  clause: "))
    return 0


def _train(sets: list[list[str]], out: str) -> int:
    """Train the learned model on every labelled set given; the file records what it was trained on."""
    from functions.guidelines.learned import examples_from, train

    pairs = []
    trained_on = []
    for posts_path, labels_path in sets:
        try:
            posts, labels = _read_inputs(posts_path, labels_path)
        except (RecordError, OSError) as exc:
            return _input_error("policy train", exc)
        chosen = [(p, labels[p.id].categories) for p in posts if p.id in labels]
        pairs.extend(chosen)
        trained_on.append({"posts": posts_path, "labels": labels_path, "items": len(chosen)})
    model = train(examples_from(pairs), trained_on={"sets": trained_on, "examples": len(pairs)})
    model.save(Path(out))
    print(f"trained on {len(pairs)} labelled posts from {len(sets)} sets: {out}")
    return 0
