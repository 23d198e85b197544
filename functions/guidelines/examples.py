"""Run a policy's own examples (every rule's must-match / must-not-match and the whole-policy examples).

Example::

    failures = run_examples(load_engine())
    assert not failures, failures
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.guidelines.engine import Engine
from functions.guidelines.policy import Example, Rule
from functions.model import Author, Post

_EXAMPLE_ID = "x:example"


@dataclass(frozen=True, slots=True)
class ExampleFailure:
    """An example that did not behave as the policy says it must."""

    where: str
    text: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.where}: expected {self.expected}, got {self.got}: {self.text[:120]!r}"


def example_post(example: Example, text: str | None = None) -> Post:
    """A Post carrying an example's text and context."""
    author = Author(id="x:user:example", handle="example_org" if example.is_org else "example_user",
                    name="Example", is_org=example.is_org)
    return Post(id=_EXAMPLE_ID, platform="x", account="example", kind=example.kind, author=author,
                text=example.text if text is None else text, created_at="2026-01-01T00:00:00Z",
                parent_id="x:parent" if example.kind != "post" else None)


def _parent(example: Example) -> Post | None:
    """The example's parent, written by the same author (a thread), so its words count as context."""
    if not example.parent:
        return None
    return example_post(Example(text=example.parent, is_org=example.is_org, kind="post"))


def rule_fires(engine: Engine, rule: Rule, example: Example) -> bool:
    """Whether ``rule`` itself (not just its category) matches the example in its context."""
    post = example_post(example)
    parent = _parent(example)
    doc = engine.document(post.text, is_org=post.author.is_org, kind=post.kind,
                          thread_text=parent.text if parent else None, has_parent=post.parent_id is not None)
    from functions.guidelines.engine import _applies

    return _applies(rule.when, doc) and rule.detector.find(doc) is not None


def run_examples(engine: Engine) -> list[ExampleFailure]:
    """Every example of the engine's policy that fails, empty when all pass."""
    failures: list[ExampleFailure] = []
    for rule in engine.policy.rules:
        for number, example in enumerate(rule.must_match):
            if not rule_fires(engine, rule, example):
                failures.append(ExampleFailure(f"{rule.id} match[{number}]", example.text, "a match", "none"))
        for number, example in enumerate(rule.must_not_match):
            if rule_fires(engine, rule, example):
                failures.append(ExampleFailure(f"{rule.id} no_match[{number}]", example.text, "no match", "a match"))
    for number, example in enumerate(engine.policy.examples):
        got = sorted({v.category for v in engine.evaluate(example_post(example), parent=_parent(example))})
        if got != sorted(example.categories):
            failures.append(ExampleFailure(f"policy examples[{number}]", example.text,
                                           str(sorted(example.categories)), str(got)))
    return failures
