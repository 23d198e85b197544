"""The policy as code: every rule's examples run as tests, extension/overrides, and clear errors for bad policies."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import pytest

from functions.guidelines import PolicyError, load_engine
from functions.guidelines.commands import add_policy_arguments, cmd_policy
from functions.guidelines.examples import example_post, rule_fires, run_examples
from functions.guidelines.policy import POLICY_DIR, Example, load_policy
from functions.model import CATEGORIES, Author

ENGINE = load_engine()
RULE_EXAMPLES = [
    pytest.param(rule, example, expected, id=f"{rule.id}-{'match' if expected else 'no_match'}-{number}")
    for rule in ENGINE.policy.rules
    for expected, examples in ((True, rule.must_match), (False, rule.must_not_match))
    for number, example in enumerate(examples)
]
POLICY_EXAMPLES = [pytest.param(e, id=f"policy-example-{n}") for n, e in enumerate(ENGINE.policy.examples)]


@pytest.mark.parametrize(("rule", "example", "expected"), RULE_EXAMPLES)
def test_rule_example(rule, example: Example, expected: bool) -> None:
    assert rule_fires(ENGINE, rule, example) is expected, example.text


@pytest.mark.parametrize("example", POLICY_EXAMPLES)
def test_whole_policy_example(example: Example) -> None:
    got = {v.category for v in ENGINE.evaluate(example_post(example))}
    assert got == set(example.categories), example.text


def test_every_category_has_a_rule_with_examples_both_ways() -> None:
    for category in CATEGORIES:
        rules = [r for r in ENGINE.policy.rules if r.category == category]
        assert rules, category
        assert any(r.must_match for r in rules) and any(r.must_not_match for r in rules), category


def test_every_rule_names_its_clause_severity_and_action() -> None:
    for rule in ENGINE.policy.rules:
        assert rule.clause.strip() and rule.action.strip()
        assert rule.id.startswith(f"{rule.category}/")


def test_policy_version_is_a_content_hash(tmp_path: Path) -> None:
    same = tmp_path / "copy.yaml"
    same.write_text((POLICY_DIR / "alliance-cme.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_policy(str(same)).version == ENGINE.policy_version
    changed = tmp_path / "org.yaml"
    changed.write_text("name: org\nextends: alliance-cme\ndisable: [political-rant]\n", encoding="utf-8")
    assert load_policy(str(changed)).version != ENGINE.policy_version


def _org_policy(tmp_path: Path, body: str) -> str:
    path = tmp_path / "org-policy.yaml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def _categories(engine, text: str, **context) -> set[str]:
    return {v.category for v in engine.evaluate(example_post(Example(text=text, **context)))}


def test_org_policy_extends_and_disables_a_category(tmp_path: Path) -> None:
    engine = load_engine(_org_policy(tmp_path, "name: acme\nextends: alliance-cme\ndisable: [political-rant]\n"))
    assert engine.policy_name == "acme"
    rant = "Vote every last one of these corrupt Democrats out!!! They are destroying medicine!!!"
    assert "political-rant" in _categories(ENGINE, rant)
    assert "political-rant" not in _categories(engine, rant)
    assert "profanity" in _categories(engine, "this is sh1t")


def test_org_policy_overrides_severity_and_action(tmp_path: Path) -> None:
    engine = load_engine(_org_policy(tmp_path, """
name: acme
extends: alliance-cme
overrides:
  spam/petition: {severity: low, action: review by comms team}
"""))
    post = example_post(Example(text="Sign our petition to abolish MOC: change.org/p/end-moc"))
    verdict = next(v for v in engine.evaluate(post) if v.category == "spam")
    assert (verdict.severity, verdict.action) == ("low", "review by comms team")


def test_org_policy_adds_terms_to_a_rule(tmp_path: Path) -> None:
    text = "you absolute wombat"
    assert "harassment" not in _categories(ENGINE, text)
    engine = load_engine(_org_policy(tmp_path, """
name: acme
extends: alliance-cme
overrides:
  harassment/insult: {extra_terms: [wombat]}
"""))
    assert "harassment" in _categories(engine, text)


def test_org_allow_lists_terms_authors_and_domains(tmp_path: Path) -> None:
    engine = load_engine(_org_policy(tmp_path, """
name: acme
extends: alliance-cme
allow:
  terms: ["Sh*t Happens"]
  authors: ["@trusted_partner"]
  domains: [shop.acme-cme.org]
"""))
    course = "Join our Sh*t Happens workshop on disclosing medical errors."
    assert "profanity" in _categories(ENGINE, course)
    assert not _categories(engine, course)
    assert "profanity" in _categories(engine, course + " This sh*t matters.")
    shop = "Our course store: get 20% off with code LEARN20 at shop.acme-cme.org/courses"
    assert "commercial-solicitation" in _categories(ENGINE, shop)
    assert "commercial-solicitation" in _categories(engine, shop)  # the code offer still counts
    assert not _categories(engine, "Course bundle at shop.acme-cme.org/bundle")
    post = example_post(Example(text="Scrubs 40% off this weekend only with code CME40"))
    trusted = replace(post, author=Author("x:user:1", "Trusted_Partner", "P", False))
    assert engine.evaluate(trusted) == []
    assert ENGINE.evaluate(trusted)


def test_org_policy_can_add_its_own_rule(tmp_path: Path) -> None:
    engine = load_engine(_org_policy(tmp_path, """
name: acme
extends: alliance-cme
rules:
  - id: commercial-solicitation/competitor-plugs
    category: commercial-solicitation
    clause: "No commercial messages."
    severity: low
    action: remove
    detector: phrases
    params: {match: {terms: ["try rivalcme"]}}
    examples: {match: ["Just try RivalCME instead"], no_match: ["fine"]}
"""))
    assert "commercial-solicitation" in _categories(engine, "Honestly just try RivalCME instead.")
    assert not run_examples(engine)


@pytest.mark.parametrize(("body", "rule", "field"), [
    ("rules:\n  - {id: spam/x, category: spam, clause: c, severity: urgent, action: a, detector: phrases,"
     " params: {match: {terms: [x]}}}\n", "spam/x", "severity"),
    ("rules:\n  - {id: spam/x, category: spam, clause: c, severity: low, action: a, detector: nope}\n",
     "spam/x", "detector"),
    ("rules:\n  - {id: spam/x, category: gossip, clause: c, severity: low, action: a, detector: phrases}\n",
     "spam/x", "category"),
    ("rules:\n  - {id: spam/x, category: spam, clause: c, severity: low, action: a, detector: phrases,"
     " params: {match: {patterns: ['(unclosed']}}}\n", "spam/x", "params.match.patterns[0]"),
    ("rules:\n  - {id: spam/x, category: spam, severity: low, action: a, detector: phrases,"
     " params: {match: {terms: [x]}}}\n", "spam/x", "clause"),
    ("rules:\n  - {id: spam/x, category: spam, clause: c, severity: low, action: a, detector: phrases,"
     " params: {match: {terms: [x]}, colour: red}}\n", "spam/x", "params.colour"),
    ("extends: alliance-cme\noverrides:\n  spam/does-not-exist: {severity: low}\n", "spam/does-not-exist",
     "overrides"),
    ("extends: alliance-cme\noverrides:\n  spam/petition: {severity: extreme}\n", "spam/petition", "severity"),
])
def test_bad_policy_error_names_file_rule_and_field(tmp_path: Path, body: str, rule: str, field: str) -> None:
    path = _org_policy(tmp_path, "name: bad\n" + body)
    with pytest.raises(PolicyError) as caught:
        load_engine(path)
    error = caught.value
    assert (error.rule, error.field) == (rule, field)
    assert "org-policy.yaml" in str(error) and rule in str(error) and field in str(error)


def test_bad_yaml_and_missing_file_are_policy_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="invalid YAML at line"):
        load_engine(_org_policy(tmp_path, "rules: [\n  - {id: x\n"))
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_engine(str(tmp_path / "missing.yaml"))
    with pytest.raises(PolicyError, match="unknown key"):
        load_engine(_org_policy(tmp_path, "name: x\nrulez: []\n"))


def test_circular_extends_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: ./b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: ./a.yaml\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="circular"):
        load_engine(str(tmp_path / "a.yaml"))


def _policy_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_policy_arguments(parser)
    return cmd_policy(parser.parse_args(list(argv)))


def test_policy_test_command_passes_on_the_default_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert _policy_cli("test") == 0
    assert "examples pass" in capsys.readouterr().out


def test_policy_test_command_fails_on_a_broken_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _org_policy(tmp_path, """
name: acme
extends: alliance-cme
examples:
  - {text: "What a lovely session", categories: [harassment]}
""")
    assert _policy_cli("test", "--policy", path) == 1
    assert "FAIL policy examples" in capsys.readouterr().out


def test_policy_show_lists_rules_with_clause(capsys: pytest.CaptureFixture[str]) -> None:
    assert _policy_cli("show") == 0
    out = capsys.readouterr().out
    assert "threat/violence" in out and "severity critical" in out and "clause: Do not post material" in out


def test_policy_command_reports_a_bad_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _policy_cli("show", "--policy", str(tmp_path / "nope.yaml")) == 2
    assert "policy error" in capsys.readouterr().err
