import json

import pytest

from functions.model import (
    CATEGORIES,
    Finding,
    Post,
    RecordError,
    dumps_line,
    finding_id_for,
    read_findings,
    read_posts,
)
from tests.conftest import CORPUS, SHARED, post_dict


def test_every_corpus_post_parses_and_round_trips():
    lines = (CORPUS / "posts.jsonl").read_text(encoding="utf-8").splitlines()
    posts = list(read_posts(lines))
    assert len(posts) == len(lines) > 100
    for line, post in zip(lines, posts, strict=True):
        assert post.to_dict() == json.loads(line)


def test_categories_match_the_spec():
    spec = (SHARED / "spec" / "categories.md").read_text(encoding="utf-8")
    ids = [row.split("`")[1] for row in spec.splitlines() if row.startswith("| `")]
    assert tuple(ids) == CATEGORIES


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"platform": "myspace"}, "platform"),
        ({"id": "facebook:1"}, "id"),
        ({"kind": "story"}, "kind"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"created_at": "2026-11-20T14:03:00"}, "created_at"),
        ({"text": 42}, "text"),
        ({"author": {"id": "x:user:1", "name": "n"}}, "author.handle"),
        ({"author": {"id": "x:user:1", "handle": "h", "is_org": "yes"}}, "author.is_org"),
        ({"parent_id": 7}, "parent_id"),
    ],
)
def test_bad_post_names_the_line_and_field(change, field):
    good = json.dumps(post_dict())
    bad = json.dumps(post_dict(**change))
    with pytest.raises(RecordError) as caught:
        list(read_posts([good, "", bad]))
    assert caught.value.line == 3
    assert caught.value.field == field
    assert f"line 3, field '{field}'" in str(caught.value)


def test_missing_field_is_named():
    data = post_dict()
    del data["account"]
    with pytest.raises(RecordError, match="field 'account': missing"):
        Post.from_dict(data)


def test_invalid_json_names_the_line():
    with pytest.raises(RecordError, match="line 2: invalid JSON"):
        list(read_posts([json.dumps(post_dict()), "{not json"]))


def test_lone_surrogates_and_nul_are_cleaned_so_text_can_be_encoded():
    post = Post.from_dict(post_dict(text="bad \ud800 text\x00"))
    post.text.encode("utf-8")
    assert "\x00" not in post.text


def _finding(**overrides):
    data = {
        "finding_id": "abc",
        "post_id": "x:1001",
        "platform": "x",
        "account": "AllianceCME",
        "category": "harassment",
        "rule": "harassment/insult",
        "severity": "high",
        "action": "hide",
        "confidence": 0.91,
        "evidence": "you clueless clown",
        "post_url": "https://x.com/drjane/status/1001",
        "author": {"id": "x:user:42", "handle": "drjane", "name": "Jane Roe", "is_org": False},
        "created_at": "2026-11-20T14:03:00Z",
        "detected_at": "2026-11-24T13:00:05Z",
        "policy": "alliance-cme",
        "policy_version": "v1",
        "run_id": "20261124T130000Z-0a1b2c3d",
    }
    data.update(overrides)
    return data


def test_finding_round_trips_through_json_lines():
    finding = Finding.from_dict(_finding())
    assert list(read_findings([dumps_line(finding)])) == [finding]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "rudeness"}, "category"),
        ({"severity": "urgent"}, "severity"),
        ({"rule": "profanity/swearing"}, "rule"),
        ({"confidence": 1.5}, "confidence"),
        ({"detected_at": "later"}, "detected_at"),
    ],
)
def test_bad_finding_names_the_field(change, field):
    with pytest.raises(RecordError) as caught:
        Finding.from_dict(_finding(**change))
    assert caught.value.field == field


def test_finding_id_is_stable_and_changes_when_the_post_is_edited():
    first = finding_id_for("x:1", "spam/petition", "Sign our petition")
    assert first == finding_id_for("x:1", "spam/petition", "Sign our petition")
    assert first != finding_id_for("x:1", "spam/petition", "Sign our petition now")
    assert first != finding_id_for("x:1", "spam/chain-letter", "Sign our petition")
    assert first != finding_id_for("x:2", "spam/petition", "Sign our petition")
