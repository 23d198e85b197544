"""The context policy and its ``cooccurrence`` detector: cue groups that meet in a window, weighed, gated, vetoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.guidelines import PolicyError, load_engine
from functions.guidelines.cooccurrence import Cooccurrence
from functions.guidelines.detectors import DETECTORS, DetectorConfigError, Document
from functions.guidelines.engine import Engine
from functions.guidelines.examples import run_examples
from functions.guidelines.normalize import views_of
from functions.guidelines.policy import load_policy
from functions.guidelines.prefilter import token_keys
from functions.guidelines.scoring import read_labels, score
from functions.model import Author, Post, read_posts
from tests.conftest import CORPUS

# The rules alone (tests/fixtures/rules-only.yaml: the default policy without the learned second opinion).
CONTEXT = str(Path(__file__).resolve().parent / "fixtures" / "rules-only.yaml")
ENGINE = load_engine(CONTEXT)
CONTEXT_RULES = [r.id for r in ENGINE.policy.rules if r.detector_name == "cooccurrence"]


def _base_engine() -> Engine:
    """The rules without the co-occurrence ones: what the contextual rules are measured against."""
    import os
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(f"name: alliance-cme-phrases\nextends: {CONTEXT}\ndisable: {CONTEXT_RULES}\n")
    try:
        return load_engine(handle.name)
    finally:
        os.unlink(handle.name)


BASE = _base_engine()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STRANGER = Author(id="x:user:7", handle="someone", name="Some One", is_org=False)
ORG = Author(id="x:user:1", handle="cmeorg", name="CME Org", is_org=True)


def doc(text: str) -> Document:
    views = views_of(text)
    return Document(text, views, False, "comment", False, "", token_keys(views.norm))


def post(text: str, *, author: Author = STRANGER) -> Post:
    return Post(id="x:1", platform="x", account="CMEOrg", kind="post" if author.is_org else "comment",
                author=author, text=text, created_at="2026-11-20T14:03:00Z", url="https://x.com/cmeorg/status/1",
                parent_id=None if author.is_org else "x:0")


def categories(engine: Engine, text: str, author: Author = STRANGER) -> set[str]:
    return {v.category for v in engine.evaluate(post(text, author=author))}


def harm_detector(**extra: object) -> Cooccurrence:
    params: dict = {"window": 4, "groups": {
        "harm": {"terms": ["hurt", "burn down"], "required": True},
        "target": {"terms": ["you", "your clinic"], "required": True},
        "future": {"terms": ["will", "gonna"], "weight": 0.5},
    }}
    params.update(extra)
    return Cooccurrence(params)


# ------------------------------------------------------------------ the policy


def test_context_policy_examples_all_pass() -> None:
    failures = run_examples(ENGINE)
    assert not failures, "\n".join(map(str, failures))


def test_default_policy_carries_the_contextual_rules_with_examples() -> None:
    base_ids = {r.id for r in BASE.policy.rules}
    added = [r for r in ENGINE.policy.rules if r.id not in base_ids]
    assert len(added) >= 10 and all(r.detector_name == "cooccurrence" for r in added)
    assert all(r.must_match and r.must_not_match for r in added)


def test_cooccurrence_is_registered_for_every_policy() -> None:
    assert DETECTORS["cooccurrence"] is Cooccurrence


@pytest.mark.parametrize(("text", "category"), [
    ("Block me again and somebody will burn down your office, Dr. Vance.", "threat"),
    ("Professor Ames quietly pockets kickbacks from the scanner vendor, ask around.", "defamation"),
    ("These spineless politicians are destroying rural hospitals. Vote them all out!!", "political-rant"),
    ("Tutoring for the nursing boards, $40 an hour, message me on Telegram.", "commercial-solicitation"),
    ("Se busca gente: gana 3.000 € al mes con cripto desde casa, escríbeme!!", "spam"),
    ("Admin login for the shared LMS: admin_lk / Winter2027# have fun", "confidential-information"),
    ("Uploaded the whole paywalled atlas as a free PDF, grab it before it's gone.", "copyright"),
    ("Refugees should not be allowed to work in our wards.", "hate"),
    ("Not sponsored, but Cardiolyn is the best statin I've prescribed. Their rep paid for my dinner club.",
     "financial-disclosure"),
])
def test_unseen_phrasings_are_found_by_word_classes(text: str, category: str) -> None:
    assert category in categories(ENGINE, text)


@pytest.mark.parametrize("text", [
    "The governor's budget cuts rural hospital funding by 4%; the hearing is on Tuesday.",
    "Dr. Park's module on detecting research fraud was excellent.",
    "I'd kill for a copy of the handout, the session was great.",
    "Please share this with your residents, the sepsis review is superb.",
    "Disclosure: I advise Cardiolyn. I still think the trial needs replication.",
    "Could you post the full transcript of the webinar for our deaf colleagues?",
    "Bias against immigrant physicians in hiring is well documented; great panel.",
    "Women are underdiagnosed with heart disease.",
    "Dr. Wu is a brilliant teacher and a joke-telling legend.",
    "Full text of the CDC guideline is free online.",
])
def test_measured_and_educational_posts_stay_clean(text: str) -> None:
    assert categories(ENGINE, text) == set()


def test_org_announcing_its_own_priced_course_is_not_solicitation() -> None:
    text = "New course on firearm injury prevention, $149, register at learn.cmeorg.example or email us."
    assert "commercial-solicitation" not in categories(ENGINE, text, ORG)
    assert "commercial-solicitation" in categories(ENGINE, text.replace("New course", "Selling my notes"))


def test_context_verdict_evidence_spans_the_cues() -> None:
    text = "Honestly, Dr. Lowe takes bribes from the device company. Lovely weather today."
    found = next(v for v in ENGINE.evaluate(post(text)) if v.category == "defamation")
    assert "Lowe" in found.evidence and "bribes" in found.evidence
    assert "weather" not in found.evidence
    assert text[found.start:found.end] == found.evidence


# ------------------------------------------------------------------ the detector


def test_fires_when_required_groups_meet_within_the_window() -> None:
    hit = harm_detector().find(doc("They will hurt you."))
    assert hit is not None


def test_does_not_fire_when_cues_are_further_apart_than_the_window() -> None:
    assert harm_detector().find(doc("hurt is a word and then many many other words follow before you")) is None
    assert harm_detector(window=20).find(doc("hurt is a word and then many many other words follow before you"))


def test_does_not_fire_across_a_sentence_boundary_unless_allowed() -> None:
    text = "It will hurt. You know it"
    assert harm_detector().find(doc(text)) is None
    assert harm_detector(same_sentence=False).find(doc(text)) is not None


def test_title_abbreviations_do_not_end_a_sentence() -> None:
    detector = Cooccurrence({"window": 6, "groups": {
        "accuse": {"terms": ["bribes"], "required": True},
        "place": {"terms": ["hospital"], "required": True}}})
    assert detector.find(doc("the hospital head Dr. Lowe takes bribes")) is not None
    assert detector.find(doc("the hospital head is new. Lowe takes bribes")) is None


def test_missing_required_group_never_fires() -> None:
    assert harm_detector().find(doc("This will hurt a lot")) is None


def test_optional_group_weight_is_needed_to_reach_the_threshold() -> None:
    strict = harm_detector(threshold=2.5)
    assert strict.find(doc("hurt you")) is None
    hit = strict.find(doc("gonna hurt you"))
    assert hit is not None


def test_confidence_rises_with_weight_above_the_threshold() -> None:
    detector = harm_detector(confidence=0.7)
    plain = detector.find(doc("hurt you"))
    stronger = detector.find(doc("will hurt you"))
    assert plain is not None and stronger is not None
    assert plain[2] == 0.7 and stronger[2] > plain[2]


def test_evidence_span_covers_every_matched_cue() -> None:
    text = "ok so we will hurt you later"
    hit = harm_detector().find(doc(text))
    assert hit is not None
    assert text[hit[0]:hit[1]] == "will hurt you"


def test_unless_group_vetoes_a_hit() -> None:
    detector = harm_detector(unless=[{"terms": ["flu shot"], "window": 30}])
    assert detector.find(doc("you will hurt less after the flu shot")) is None
    assert detector.find(doc("you will hurt soon")) is not None


def test_a_word_cut_by_the_scan_window_is_not_a_cue() -> None:
    detector = Cooccurrence({"window": 1, "groups": {
        "harm": {"terms": ["hurt"], "required": True},
        "target": {"terms": ["kill"], "required": True}}})
    # "killer" starts right at the edge of the scan window; "kill" inside it must not count.
    assert detector.find(doc("hurt " + "x" * 8 + " killer")) is None
    assert detector.find(doc("hurt kill")) is not None


def test_gate_is_a_required_groups_keys_and_blocks_posts_without_them() -> None:
    detector = harm_detector()
    gate = detector.gate()
    assert gate is not None
    keys, _substrings = gate
    assert keys in ({"hurt", "burn"}, {"you", "clin"})
    # The second required group ("you") is absent: find returns before scanning anything.
    assert detector.find(doc("it will hurt")) is None
    index = Engine(load_policy(CONTEXT))._gates
    rule_numbers = {r.id: n for n, r in enumerate(ENGINE.rules)}
    plain = doc("Lovely session, thanks to all the speakers.")
    assert rule_numbers["threat/context-harm"] not in index.open_for(plain.keys, plain.views.norm)


def test_gate_is_none_when_no_required_group_can_be_gated() -> None:
    detector = Cooccurrence({"groups": {"name": {"patterns": ["[A-Z][a-z]+"], "view": "plain", "required": True}}})
    assert detector.gate() is None


@pytest.mark.parametrize(("params", "field"), [
    ({"groups": {"a": {"terms": ["x"]}}}, "groups"),
    ({"groups": {"a": {"terms": ["x"], "required": True}}, "threshold": 5}, "threshold"),
    ({"groups": {"a": {"terms": ["x"], "required": True}}, "windw": 3}, "windw"),
    ({"groups": {"a": {"terms": ["x"], "required": True, "weight": -1}}}, "groups.a.weight"),
    ({"groups": {"a": {"terms": ["x"], "required": "yes"}}}, "groups.a.required"),
    ({"groups": {"a": {"terms": ["x"], "required": True}}, "window": 0}, "window"),
    ({"groups": []}, "groups"),
])
def test_bad_params_name_the_field(params: dict, field: str) -> None:
    with pytest.raises(DetectorConfigError) as error:
        Cooccurrence(params)
    assert error.value.field == field


def test_policy_error_names_the_rule_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: alliance-cme\nrules:\n  - id: threat/x\n    category: threat\n    clause: c\n"
                   "    severity: high\n    action: remove\n    detector: cooccurrence\n"
                   "    params: {groups: {a: {terms: [x]}}}\n", encoding="utf-8")
    with pytest.raises(PolicyError) as error:
        load_policy(str(bad))
    assert error.value.rule == "threat/x" and error.value.field == "params.groups"


def test_override_extra_terms_extend_the_first_group(tmp_path: Path) -> None:
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {CONTEXT}\noverrides:\n  threat/context-harm: {{extra_terms: [defenestrate]}}\n",
                     encoding="utf-8")
    engine = load_engine(str(child))
    assert "threat" in categories(engine, "One day I will defenestrate you, doc.")
    assert "threat" not in categories(ENGINE, "One day I will defenestrate you, doc.")


# ------------------------------------------------------------------ scores


def _report(engine: Engine, posts_path: Path, labels_path: Path):  # type: ignore[no-untyped-def]
    with open(posts_path, encoding="utf-8") as handle:
        posts = list(read_posts(handle))
    with open(labels_path, encoding="utf-8") as handle:
        labels = read_labels(handle)
    return score(engine, posts, labels)


@pytest.mark.skipif(not (CORPUS / "posts.jsonl").exists(), reason="shared corpus not on this machine")
def test_corpus_scores_meet_the_targets_with_the_context_policy() -> None:
    report = _report(ENGINE, CORPUS / "posts.jsonl", CORPUS / "labels.jsonl")
    assert report.needs_action.f1 >= 0.92
    assert report.hard_negative_fp_rate <= 0.03
    weak = {c: n.f1 for c, n in report.categories.items() if n.support and n.f1 < 0.80}
    assert not weak, weak


@pytest.mark.parametrize("name", ["engine_context", "engine_context2"])
def test_fresh_context_sets_score_well(name: str) -> None:
    report = _report(ENGINE, FIXTURES / f"{name}.jsonl", FIXTURES / f"{name}_labels.jsonl")
    base = _report(BASE, FIXTURES / f"{name}.jsonl", FIXTURES / f"{name}_labels.jsonl")
    assert report.needs_action.precision >= 0.93 and report.needs_action.recall >= 0.9
    assert report.needs_action.f1 > base.needs_action.f1
    assert report.hard_negative_flagged <= base.hard_negative_flagged


def test_context_policy_beats_the_base_on_the_set_written_last() -> None:
    paths = (FIXTURES / "engine_context3.jsonl", FIXTURES / "engine_context3_labels.jsonl")
    report, base = _report(ENGINE, *paths), _report(BASE, *paths)
    assert report.needs_action.recall > base.needs_action.recall
    assert report.needs_action.precision >= 0.93
    assert report.hard_negative_flagged <= base.hard_negative_flagged


@pytest.mark.parametrize("name", ["engine_benign", "engine_benign2", "engine_context_benign"])
def test_benign_sets_gain_no_false_alarms(name: str) -> None:
    paths = (FIXTURES / f"{name}.jsonl", FIXTURES / f"{name}_labels.jsonl")
    assert _report(ENGINE, *paths).needs_action.fp <= _report(BASE, *paths).needs_action.fp
