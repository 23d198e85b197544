"""Score an engine on a labelled corpus: needs-action P/R/F1, hard-negative false positives, per category.

Example::

    labels = read_labels(open("labels.jsonl"))
    report = score(engine, posts, labels)
    print(report.needs_action.f1)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from functions.model import CATEGORIES, Post, RecordError


@dataclass(frozen=True, slots=True)
class Label:
    """The expected categories of one corpus item (empty = needs no action)."""

    id: str
    categories: frozenset[str]
    note: str = ""

    @property
    def hard_negative(self) -> bool:
        """True for a fine item chosen to look like a violation (note starts with 'hard-negative')."""
        return not self.categories and self.note.strip().lower().startswith("hard-negative")


@dataclass(slots=True)
class Counts:
    """True/false positives and false negatives, with the usual ratios."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def to_dict(self) -> dict[str, Any]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "support": self.support, "tp": self.tp, "fp": self.fp, "fn": self.fn}


@dataclass(slots=True)
class Mistake:
    """One item where the engine and the label disagree."""

    post_id: str
    expected: list[str]
    predicted: list[str]
    text: str


@dataclass(slots=True)
class Report:
    """The outcome of scoring an engine on a corpus."""

    items: int = 0
    needs_action: Counts = field(default_factory=Counts)
    hard_negatives: int = 0
    hard_negative_flagged: int = 0
    categories: dict[str, Counts] = field(default_factory=lambda: {c: Counts() for c in CATEGORIES})
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def hard_negative_fp_rate(self) -> float:
        return self.hard_negative_flagged / self.hard_negatives if self.hard_negatives else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "needs_action": self.needs_action.to_dict(),
            "hard_negatives": self.hard_negatives,
            "hard_negative_false_positives": self.hard_negative_flagged,
            "hard_negative_fp_rate": round(self.hard_negative_fp_rate, 4),
            "categories": {c: n.to_dict() for c, n in self.categories.items()},
            "mistakes": [{"id": m.post_id, "expected": m.expected, "predicted": m.predicted} for m in self.mistakes],
        }


def read_labels(lines: Iterable[str | bytes]) -> dict[str, Label]:
    """Parse labels JSON Lines; a bad line raises RecordError naming the line and field."""
    labels: dict[str, Label] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        try:
            labels_entry = _label(json.loads(text))
        except json.JSONDecodeError as exc:
            raise RecordError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=number) from None
        except RecordError as exc:
            raise exc.at_line(number) from None
        if labels_entry.id in labels:
            raise RecordError(f"duplicate label for {labels_entry.id[:80]!r}", field="id", line=number)
        labels[labels_entry.id] = labels_entry
    return labels


def _label(data: Any) -> Label:
    if not isinstance(data, dict):
        raise RecordError("expected a JSON object")
    post_id = data.get("id")
    if not isinstance(post_id, str) or not post_id:
        raise RecordError("expected a non-empty string", field="id")
    categories = data.get("categories")
    if not isinstance(categories, list):
        raise RecordError("expected a list of categories", field="categories")
    for name in categories:
        if name not in CATEGORIES:
            raise RecordError(f"unknown category {str(name)[:40]!r}", field="categories")
    note = data.get("note") or ""
    if not isinstance(note, str):
        raise RecordError("expected a string", field="note")
    return Label(post_id, frozenset(categories), note)


def score(engine: Any, posts: Sequence[Post], labels: dict[str, Label]) -> Report:
    """Evaluate every labelled post (with its parent when present) and compare with the labels."""
    by_id = {p.id: p for p in posts}
    report = Report()
    for post in posts:
        label = labels.get(post.id)
        if label is None:
            continue
        parent = by_id.get(post.parent_id) if post.parent_id else None
        predicted = {v.category for v in engine.evaluate(post, parent=parent)}
        _count(report, label, predicted)
        if predicted != label.categories:
            report.mistakes.append(Mistake(post.id, sorted(label.categories), sorted(predicted), post.text))
    return report


def _count(report: Report, label: Label, predicted: set[str]) -> None:
    report.items += 1
    expected = label.categories
    if expected and predicted:
        report.needs_action.tp += 1
    elif predicted:
        report.needs_action.fp += 1
    elif expected:
        report.needs_action.fn += 1
    if label.hard_negative:
        report.hard_negatives += 1
        report.hard_negative_flagged += bool(predicted)
    for category in CATEGORIES:
        counts = report.categories[category]
        if category in expected and category in predicted:
            counts.tp += 1
        elif category in predicted:
            counts.fp += 1
        elif category in expected:
            counts.fn += 1


def format_report(report: Report, *, show_mistakes: bool = True) -> str:
    """A plain-text table of the report."""
    na = report.needs_action
    lines = [
        f"items: {report.items}",
        f"needs-action: precision {na.precision:.3f}  recall {na.recall:.3f}  F1 {na.f1:.3f}  (support {na.support})",
        f"hard negatives: {report.hard_negative_flagged}/{report.hard_negatives} flagged "
        f"(false-positive rate {report.hard_negative_fp_rate:.1%})",
        "",
        f"{'category':<26}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}",
    ]
    for name, counts in report.categories.items():
        lines.append(f"{name:<26}{counts.precision:>10.3f}{counts.recall:>8.3f}{counts.f1:>7.3f}{counts.support:>9}")
    if show_mistakes and report.mistakes:
        lines += ["", "mistakes:"]
        for m in report.mistakes:
            snippet = m.text if len(m.text) <= 100 else m.text[:97] + "..."
            lines.append(f"  {m.post_id}: expected {m.expected or '[]'} got {m.predicted or '[]'} | {snippet!r}")
    return "\n".join(lines)
