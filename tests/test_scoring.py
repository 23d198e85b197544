"""Scores of the engine on the labelled corpora, and the `evaluate` command's output and errors."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import pytest

from functions.guidelines import load_engine
from functions.guidelines.commands import add_evaluate_arguments, cmd_evaluate
from functions.guidelines.examples import example_post
from functions.guidelines.policy import Example
from functions.guidelines.scoring import Label, format_report, read_labels, score
from functions.model import CATEGORIES, RecordError, read_posts

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT.parent.parent / "shared" / "corpus"
FIXTURES = ROOT / "fixtures"
# Hand-written sets (tests/fixtures/make_engine_heldout*.py), each first measured before any tuning on it.
HELD_OUT = ["engine_heldout"] + [f"engine_heldout{n}" for n in range(2, 13)]
ENGINE = load_engine()


def _report(posts_path: Path, labels_path: Path):
    with posts_path.open(encoding="utf-8") as handle:
        posts = list(read_posts(handle))
    with labels_path.open(encoding="utf-8") as handle:
        labels = read_labels(handle)
    return score(ENGINE, posts, labels)


def _assert_targets(report) -> None:
    assert report.needs_action.f1 >= 0.92, format_report(report)
    assert report.hard_negative_fp_rate <= 0.03, format_report(report)
    for category in CATEGORIES:
        counts = report.categories[category]
        if counts.support:
            assert counts.f1 >= 0.80, (category, format_report(report))


@pytest.mark.skipif(not (CORPUS / "posts.jsonl").exists(), reason="shared development corpus not present")
def test_development_corpus_meets_the_targets() -> None:
    report = _report(CORPUS / "posts.jsonl", CORPUS / "labels.jsonl")
    assert report.items == 105 and report.hard_negatives > 0
    _assert_targets(report)


@pytest.mark.parametrize("name", HELD_OUT)
def test_hand_written_extra_sets_meet_the_targets(name: str) -> None:
    report = _report(FIXTURES / f"{name}.jsonl", FIXTURES / f"{name}_labels.jsonl")
    assert report.items >= 25
    _assert_targets(report)


@pytest.mark.parametrize("name", ["engine_benign", "engine_benign2"])
def test_benign_stress_sets_have_few_false_alarms(name: str) -> None:
    report = _report(FIXTURES / f"{name}.jsonl", FIXTURES / f"{name}_labels.jsonl")
    assert report.hard_negatives == report.items >= 55
    assert report.hard_negative_fp_rate <= 0.03, format_report(report)


def test_counts_and_ratios() -> None:
    assert score(ENGINE, [], {}).items == 0
    labels = {"x:1": Label("x:1", frozenset({"spam"})), "x:2": Label("x:2", frozenset(), "hard-negative: shot"),
              "x:3": Label("x:3", frozenset({"threat"}))}
    posts = [
        replace(example_post(Example("Share this with 10 colleagues or your license will be delayed!")), id="x:1"),
        replace(example_post(Example("Flu shot clinic next week.")), id="x:2"),
        replace(example_post(Example("Lovely session, thank you.")), id="x:3"),
    ]
    report = score(ENGINE, posts, labels)
    assert (report.needs_action.tp, report.needs_action.fp, report.needs_action.fn) == (1, 0, 1)
    assert report.needs_action.precision == 1.0 and report.needs_action.recall == 0.5
    assert report.hard_negatives == 1 and report.hard_negative_flagged == 0
    assert report.categories["spam"].f1 == 1.0 and report.categories["threat"].recall == 0.0
    assert [m.post_id for m in report.mistakes] == ["x:3"]


def test_labels_parsing_names_line_and_field() -> None:
    good = ['{"id": "x:1", "categories": ["spam"], "note": "chain"}', ""]
    assert read_labels(good)["x:1"].categories == frozenset({"spam"})
    with pytest.raises(RecordError, match="line 2, field 'categories': unknown category 'gossip'"):
        read_labels([good[0], '{"id": "x:2", "categories": ["gossip"]}'])
    with pytest.raises(RecordError, match="line 1: invalid JSON"):
        read_labels(["{nope"])
    with pytest.raises(RecordError, match="line 2, field 'id': duplicate"):
        read_labels([good[0], good[0]])


def _evaluate_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_evaluate_arguments(parser)
    return cmd_evaluate(parser.parse_args(list(argv)))


def test_evaluate_command_prints_scores(capsys: pytest.CaptureFixture[str]) -> None:
    code = _evaluate_cli("--input", str(FIXTURES / "engine_heldout.jsonl"),
                         "--labels", str(FIXTURES / "engine_heldout_labels.jsonl"))
    out = capsys.readouterr().out
    assert code == 0
    assert "needs-action: precision" in out and "hard negatives:" in out and "commercial-solicitation" in out


def test_evaluate_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = _evaluate_cli("--input", str(FIXTURES / "engine_heldout2.jsonl"),
                         "--labels", str(FIXTURES / "engine_heldout2_labels.jsonl"), "--json")
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(data["categories"]) == set(CATEGORIES)
    assert {"precision", "recall", "f1"} <= set(data["needs_action"])
    assert data["policy"] == "alliance-cme" and data["hard_negatives"] > 0


def test_evaluate_command_rejects_bad_input_with_line_and_field(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    posts = tmp_path / "posts.jsonl"
    posts.write_text((FIXTURES / "engine_heldout.jsonl").read_text(encoding="utf-8").splitlines()[0]
                     + '\n{"id": "x:2", "platform": "x"}\n', encoding="utf-8")
    code = _evaluate_cli("--input", str(posts), "--labels", str(FIXTURES / "engine_heldout_labels.jsonl"))
    assert code == 2
    assert "line 2" in capsys.readouterr().err
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": "x:heldout0000", "categories": "spam"}\n', encoding="utf-8")
    code = _evaluate_cli("--input", str(FIXTURES / "engine_heldout.jsonl"), "--labels", str(labels))
    assert code == 2
    assert "line 1, field 'categories'" in capsys.readouterr().err
    code = _evaluate_cli("--input", str(tmp_path / "missing.jsonl"), "--labels", str(labels))
    assert code == 2
    assert "cannot read" in capsys.readouterr().err
