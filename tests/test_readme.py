"""What the README shows a user works as shown."""

from __future__ import annotations

import re

from functions.guidelines import load_engine
from functions.model import Author, Post
from tests.conftest import ROOT


def _yaml_block_starting(text: str, first_line: str) -> str:
    for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.S):
        if block.startswith(first_line):
            return block
    raise AssertionError(f"no yaml block starting with {first_line!r}")


def _post(text: str, handle: str = "someone") -> Post:
    return Post(id="x:1", platform="x", account="Acme", kind="comment",
                author=Author(id="x:user:1", handle=handle, name="S", is_org=False), text=text,
                created_at="2026-11-20T10:00:00Z", parent_id="x:0")


def test_readme_organization_policy_loads_and_does_what_it_says(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    policy = tmp_path / "acme.yaml"
    policy.write_text(_yaml_block_starting(readme, "name: acme-cme"), encoding="utf-8")
    engine = load_engine(str(policy))
    default = load_engine()
    assert engine.policy_name == "acme-cme"
    rant = "Vote every last one of these corrupt senators out!!! They are destroying this country!!!"
    assert "political-rant" in {v.category for v in default.evaluate(_post(rant))}
    assert "political-rant" not in {v.category for v in engine.evaluate(_post(rant))}
    assert "profanity" in {v.category for v in engine.evaluate(_post("what a frakking mess of a webinar"))}
    assert engine.evaluate(_post("you absolute idiot", handle="our_moderator")) == []
    petition = "Sign our petition to end the fee schedule cuts! change.org/p/stop-cuts please share everywhere"
    (verdict,) = [v for v in engine.evaluate(_post(petition)) if v.rule == "spam/petition"]
    assert (verdict.severity, verdict.action) == ("low", "review")


def test_readme_accounts_example_parses():
    import yaml

    from functions.config import parse_accounts

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = _yaml_block_starting(readme, "organization:")
    accounts = parse_accounts(yaml.safe_load(block), source="README")
    assert [a.platform for a in accounts.accounts] == ["x", "mastodon"]
