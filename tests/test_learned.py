"""The learned evaluator: a reproducible model, trained without the holdout, adding verdicts the rules miss."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from functions.guidelines import PolicyError, load_engine
from functions.guidelines.learned import Model, evidence_span, examples_from, features_of, model_path, train
from functions.guidelines.normalize import views_of
from functions.model import Author, Post

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = model_path("alliance-cme")


def _post(text: str, *, is_org: bool = False, kind: str = "comment") -> Post:
    return Post(id="x:1", platform="x", account="acme", kind=kind,
                author=Author(id="x:user:1", handle="someone", name="Someone", is_org=is_org), text=text,
                created_at="2026-11-20T10:00:00Z", url="https://x.com/a/status/1", parent_id=None, lang="en")


def _policy(tmp_path: Path, model: Path, extra: str = ", min_confidence: 0.5") -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(f"name: trial\nextends: alliance-cme\nevaluators:\n  learned: {{enabled: true, model: '{model}'"
                    f"{extra}}}\n", encoding="utf-8")
    return str(path)


def _tiny_model(tmp_path: Path) -> Path:
    """A model that learns one made-up word as a threat, so the plumbing can be checked on any text."""
    pairs = [(_post(f"the zorblax will come for item {n}. Nothing else here."), {"threat"}) for n in range(12)]
    pairs += [(_post(f"Thanks for session {n}, the slides are great."), set()) for n in range(30)]
    path = tmp_path / "tiny.model.json"
    train(examples_from(pairs)).save(path)
    return path


def test_bundled_model_is_what_the_listed_sets_train() -> None:
    """The committed model is reproducible: retraining on the sets it names gives the same file."""
    recorded = json.loads(BUNDLED.read_text(encoding="utf-8"))
    sets = recorded["trained_on"]["sets"]
    assert recorded["trained_on"]["examples"] > 1000
    args = [arg for s in sets for arg in ("--set", s["posts"], s["labels"])]
    out = ROOT / "out" / "retrained.model.json"
    out.parent.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "functions.cli", "policy", "train", "--out", str(out), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == BUNDLED.read_text(encoding="utf-8")


def test_holdouts_are_never_trained_on() -> None:
    sets = json.loads(BUNDLED.read_text(encoding="utf-8"))["trained_on"]["sets"]
    names = " ".join(s["posts"] + " " + s["labels"] for s in sets)
    assert "blind1" in names and "blind4" in names and "blind3" not in names and "blind5" not in names


def test_features_are_words_pairs_and_context() -> None:
    features = features_of(views_of("You'll REGRET this, d0ctor").deleet, False, "reply")
    assert {"regret", "regret this", "doctor", "@person", "@reply"} <= set(features)
    assert features == sorted(features)


def test_learned_verdict_names_category_rule_and_the_sentence(tmp_path: Path) -> None:
    engine = load_engine(_policy(tmp_path, _tiny_model(tmp_path)))
    text = "Great talk today. Honestly the zorblax will visit you soon. See you next week."
    verdicts = engine.evaluate(_post(text))
    assert [(v.category, v.rule) for v in verdicts] == [("threat", "threat/learned")]
    verdict = verdicts[0]
    assert verdict.evidence == "Honestly the zorblax will visit you soon."
    assert text[verdict.start:verdict.end] == verdict.evidence
    assert 0.5 <= verdict.confidence <= 1.0
    assert engine.evaluate(_post("Thanks for the great slides today.")) == []


def test_learned_evidence_is_at_most_160_characters(tmp_path: Path) -> None:
    engine = load_engine(_policy(tmp_path, _tiny_model(tmp_path)))
    text = "Honestly the zorblax will visit you soon " + "and then again and again " * 12 + "ok."
    (verdict,) = engine.evaluate(_post(text))
    assert verdict.rule == "threat/learned"
    assert verdict.evidence == text[:160] and (verdict.start, verdict.end) == (0, 160)


def test_rules_win_and_the_model_only_reviews_unflagged_posts(tmp_path: Path) -> None:
    engine = load_engine(_policy(tmp_path, _tiny_model(tmp_path)))
    verdicts = engine.evaluate(_post("I know where you live, the zorblax is coming"))
    assert all(v.rule != "threat/learned" for v in verdicts) and verdicts
    assert engine.evaluator_stats()["learned"]["calls"] == 0


def test_min_confidence_holds_back_unsure_verdicts(tmp_path: Path) -> None:
    engine = load_engine(_policy(tmp_path, _tiny_model(tmp_path), ", min_confidence: 1.0"))
    assert engine.evaluate(_post("the zorblax will visit you soon.")) == []


def test_evidence_span_maps_back_through_zero_width_characters() -> None:
    text = "Fine first line.\nThen z\u200borblax arrives here. End"
    views = views_of(text)
    start, end = evidence_span(views, "zorblax arrives")
    assert text[start:end] == "Then z\u200borblax arrives here."


def test_a_broken_model_file_is_a_clear_policy_load_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.model.json"
    bad.write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(ValueError, match="not a socialaudit-learned-1 model file"):
        load_engine(_policy(tmp_path, bad))


def test_unknown_learned_setting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: t\nextends: alliance-cme\nevaluators:\n  learned: {enabled: true, modle: x}\n",
                    encoding="utf-8")
    with pytest.raises(PolicyError, match="modle"):
        load_engine(str(path))


def test_train_command_rejects_bad_labels(tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "x:1", "platform": "x", "account": "a", "kind": "post",
                                 "author": {"id": "u", "handle": "h", "name": "n", "is_org": True}, "text": "hi",
                                 "created_at": "2026-11-20T10:00:00Z", "url": "https://x.com/1", "parent_id": None,
                                 "lang": "en"}) + "\n", encoding="utf-8")
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": "x:1", "categories": ["not-a-category"], "note": ""}\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "functions.cli", "policy", "train", "--out", str(tmp_path / "m"),
                           "--set", str(posts), str(labels)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "bad input" in done.stderr and "line 1" in done.stderr
    assert not (tmp_path / "m").exists()


def test_model_round_trips_through_its_file(tmp_path: Path) -> None:
    path = _tiny_model(tmp_path)
    model = Model.load(path)
    features = features_of("the zorblax will come", False, "comment")
    category, probability = model.best(features)
    assert category == "threat" and probability > 0.5
    assert "zorblax" in (model.strongest("threat", features) or "")
    assert model.scores(features)["threat"] == pytest.approx(probability)
