"""Floors on the blind sets (see tests/fixtures/BLIND.md): no change may make the engine worse on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.guidelines import load_engine
from functions.guidelines.scoring import read_labels, score
from functions.model import read_posts

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ENGINE = load_engine()


@pytest.mark.parametrize(("name", "f1_floor", "precision_floor", "hard_negative_ceiling"), [
    ("blind1", 0.95, 0.95, 0.03),  # tuned on
    ("blind2", 0.95, 0.95, 0.03),  # tuned on
    ("blind3", 0.80, 0.93, 0.03),  # holdout: never write rules from its misses
    ("blind4", 0.90, 0.93, 0.03),  # first scored unseen (rules 0.691, with the model 0.736), then trained and tuned on
    ("blind5", 0.78, 0.93, 0.06),  # holdout, first score F1 0.789 and 4/75 hard negatives flagged (5.3 %, over target)
])
def test_blind_set_scores_do_not_regress(name: str, f1_floor: float, precision_floor: float,
                                         hard_negative_ceiling: float) -> None:
    folder = FIXTURES / name
    with open(folder / "posts.jsonl", encoding="utf-8") as handle:
        posts = list(read_posts(handle))
    with open(folder / "labels.jsonl", encoding="utf-8") as handle:
        labels = read_labels(handle)
    report = score(ENGINE, posts, labels)
    assert report.needs_action.f1 >= f1_floor
    assert report.needs_action.precision >= precision_floor
    assert report.hard_negative_fp_rate <= hard_negative_ceiling
