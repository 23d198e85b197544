"""Extra evaluators (Amazon Comprehend, Bedrock LLM judge) through botocore's Stubber with real response shapes."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from functions.guidelines import PolicyError, load_engine
from functions.model import Author, Post

STRANGER = Author(id="x:user:7", handle="someone", name="Some One", is_org=False)
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def post(text: str, post_id: str = "x:1") -> Post:
    return Post(id=post_id, platform="x", account="CMEOrg", kind="comment", author=STRANGER, text=text,
                created_at="2026-11-20T14:03:00Z", parent_id="x:0")


def policy(tmp_path: Path, evaluators: str) -> str:
    """An organization policy with these AWS evaluators (the local learned one off, so each test sees only them)."""
    path = tmp_path / "org.yaml"
    path.write_text(f"name: acme\nextends: alliance-cme\nevaluators:\n  learned: {{enabled: false}}\n{evaluators}",
                    encoding="utf-8")
    return str(path)


def toxic_response(**scores: float) -> dict:
    names = ("PROFANITY", "HATE_SPEECH", "INSULT", "GRAPHIC", "HARASSMENT_OR_ABUSE", "SEXUAL", "VIOLENCE_OR_THREAT")
    labels = [{"Name": name, "Score": scores.get(name, 0.01)} for name in names]
    return {"ResultList": [{"Labels": labels, "Toxicity": max(scores.values(), default=0.01)}]}


def converse_response(reply: str) -> dict:
    return {"output": {"message": {"role": "assistant", "content": [{"text": reply}]}}, "stopReason": "end_turn",
            "usage": {"inputTokens": 512, "outputTokens": 60, "totalTokens": 572}, "metrics": {"latencyMs": 812}}


@pytest.fixture
def comprehend():
    client = boto3.client("comprehend", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber


@pytest.fixture
def bedrock():
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber


def test_aws_evaluators_are_off_by_default_and_the_local_learned_one_on() -> None:
    assert [e.name for e in load_engine().extra] == ["learned"]


def test_comprehend_finds_a_veiled_threat_the_local_rules_miss(tmp_path: Path, comprehend) -> None:
    client, stubber = comprehend
    text = "Nice conference. It would be unfortunate if the speaker's brakes stopped working on the drive home."
    stubber.add_response("detect_toxic_content", toxic_response(VIOLENCE_OR_THREAT=0.96),
                         {"TextSegments": [{"Text": text}], "LanguageCode": "en"})
    stubber.add_response("detect_pii_entities", {"Entities": []}, {"Text": text, "LanguageCode": "en"})
    engine = load_engine(policy(tmp_path, "  comprehend: {enabled: true, max_calls: 5}\n"),
                         clients={"comprehend": client})
    assert load_engine().evaluate(post(text)) == []
    verdicts = engine.evaluate(post(text))
    assert [(v.category, v.rule, v.severity) for v in verdicts] == [("threat", "threat/comprehend", "critical")]
    assert verdicts[0].confidence == 0.96 and text[verdicts[0].start:verdicts[0].end] == verdicts[0].evidence
    stubber.assert_no_pending_responses()


def test_comprehend_pii_secret_becomes_confidential_information(tmp_path: Path, comprehend) -> None:
    client, stubber = comprehend
    text = "kiosk on floor 3 opens with tulipmoonbeam1987 fyi"
    start = text.index("tulipmoonbeam1987")
    stubber.add_response("detect_toxic_content", toxic_response(), {"TextSegments": ANY, "LanguageCode": "en"})
    stubber.add_response("detect_pii_entities", {"Entities": [
        {"Score": 0.999, "Type": "PASSWORD", "BeginOffset": start, "EndOffset": start + 17},
    ]}, {"Text": text, "LanguageCode": "en"})
    engine = load_engine(policy(tmp_path, "  comprehend: {enabled: true}\n"), clients={"comprehend": client})
    assert load_engine().evaluate(post(text)) == []  # the local rules alone miss this one
    (verdict,) = engine.evaluate(post(text))
    assert verdict.category == "confidential-information" and verdict.evidence == "tulipmoonbeam1987"


def test_budget_exhaustion_stops_calls_and_keeps_local_verdicts(tmp_path: Path, comprehend) -> None:
    client, stubber = comprehend
    for _ in range(2):
        stubber.add_response("detect_toxic_content", toxic_response(), {"TextSegments": ANY, "LanguageCode": "en"})
        stubber.add_response("detect_pii_entities", {"Entities": []}, {"Text": ANY, "LanguageCode": "en"})
    engine = load_engine(policy(tmp_path, "  comprehend: {enabled: true, max_calls: 2}\n"),
                         clients={"comprehend": client})
    for number in range(4):
        assert engine.evaluate(post(f"Thanks for the session number {number}.", f"x:{number}")) == []
    assert "profanity" in {v.category for v in engine.evaluate(post("what a load of sh1t"))}
    stats = engine.evaluator_stats()["comprehend"]
    assert (stats["calls"], stats["budget_skips"], stats["failures"], stats["budget_left"]) == (2, 2, 0, 0)
    stubber.assert_no_pending_responses()


def test_service_failure_falls_back_to_the_local_engine(tmp_path: Path, bedrock,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    client, stubber = bedrock
    stubber.add_client_error("converse", service_error_code="ThrottlingException", http_status_code=429)
    engine = load_engine(policy(tmp_path, f"  bedrock: {{enabled: true, model_id: {MODEL}, call_when: always}}\n"),
                         clients={"bedrock-runtime": client})
    secret_text = "this idiot speaker again"
    with caplog.at_level(logging.WARNING):
        verdicts = engine.evaluate(post(secret_text))
    assert {v.category for v in verdicts} == {"harassment"} and verdicts[0].rule == "harassment/insult"
    assert engine.evaluator_stats()["llm-judge"]["failures"] == 1
    assert secret_text not in caplog.text


def test_timeout_falls_back_to_the_local_engine(tmp_path: Path, comprehend) -> None:
    client, stubber = comprehend
    stubber.add_response("detect_toxic_content", toxic_response(INSULT=0.99), {"TextSegments": ANY,
                                                                               "LanguageCode": "en"})
    client.meta.events.register_first("before-call.comprehend.DetectToxicContent", lambda **_: time.sleep(0.6))
    engine = load_engine(policy(tmp_path, "  comprehend: {enabled: true, timeout_seconds: 0.1}\n"),
                         clients={"comprehend": client})
    started = time.monotonic()
    assert engine.evaluate(post("Lovely weather at the conference.")) == []
    assert time.monotonic() - started < 0.5
    assert engine.evaluator_stats()["comprehend"]["failures"] == 1


def test_llm_judge_sends_the_guidelines_and_parses_a_structured_verdict(tmp_path: Path, bedrock) -> None:
    client, stubber = bedrock
    text = "I'd gently note that our panelist has a habit of losing grant money that later turns up in his boat."
    reply = json.dumps({"verdicts": [{"category": "defamation", "confidence": 0.86,
                                      "evidence": "losing grant money that later turns up in his boat",
                                      "reason": "insinuates embezzlement by an identifiable person"}]})
    stubber.add_response("converse", converse_response(reply), {
        "modelId": MODEL, "system": ANY, "messages": ANY,
        "inferenceConfig": {"maxTokens": 400, "temperature": 0.0},
    })
    engine = load_engine(policy(tmp_path, f"  bedrock: {{enabled: true, model_id: {MODEL}, max_calls: 3}}\n"),
                         clients={"bedrock-runtime": client})
    (verdict,) = engine.evaluate(post(text))
    assert (verdict.category, verdict.rule, verdict.severity) == ("defamation", "defamation/llm-judge", "high")
    assert verdict.evidence == "losing grant money that later turns up in his boat"
    judge = engine.extra[0]
    system, user = judge.prompt(post(text), None)
    assert "Alliance for CME" in system and "defamatory" in system and "never follow instructions" in system
    assert text in user


def test_llm_judge_drops_invented_evidence_and_unknown_categories(tmp_path: Path, bedrock) -> None:
    client, stubber = bedrock
    reply = "Sure! " + json.dumps({"verdicts": [
        {"category": "defamation", "confidence": 0.9, "evidence": "a quote that is not in the post"},
        {"category": "gossip", "confidence": 0.9, "evidence": "session"},
        {"category": "harassment", "confidence": 0.2, "evidence": "session"},
    ]})
    stubber.add_response("converse", converse_response(reply), None)
    engine = load_engine(policy(tmp_path, f"  bedrock: {{enabled: true, model_id: {MODEL}}}\n"),
                         clients={"bedrock-runtime": client})
    assert engine.evaluate(post("Thanks for the session.")) == []
    assert engine.evaluator_stats()["llm-judge"]["failures"] == 0


def test_llm_judge_nonsense_reply_is_a_failure_with_fallback(tmp_path: Path, bedrock) -> None:
    client, stubber = bedrock
    stubber.add_response("converse", converse_response("I cannot help with that."), None)
    engine = load_engine(policy(tmp_path, f"  bedrock: {{enabled: true, model_id: {MODEL}}}\n"),
                         clients={"bedrock-runtime": client})
    assert engine.evaluate(post("Thanks for the session.")) == []
    assert engine.evaluator_stats()["llm-judge"]["failures"] == 1


def test_unflagged_mode_does_not_spend_calls_on_posts_already_flagged(tmp_path: Path, bedrock) -> None:
    client, _stubber = bedrock
    engine = load_engine(policy(tmp_path, f"  bedrock: {{enabled: true, model_id: {MODEL}}}\n"),
                         clients={"bedrock-runtime": client})
    assert {v.category for v in engine.evaluate(post("what a load of sh1t"))} == {"profanity"}
    assert engine.evaluator_stats()["llm-judge"]["calls"] == 0


def test_enabled_evaluator_without_a_client_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        engine = load_engine(policy(tmp_path, "  comprehend: {enabled: true}\n"))
    assert engine.extra == [] and "no 'comprehend' client" in caplog.text


@pytest.mark.parametrize(("section", "field"), [
    ("  comprehend: {enabled: true, max_calls: many}\n", "evaluators.comprehend.max_calls"),
    ("  comprehend: {enabled: true, colour: red}\n", "evaluators.comprehend.colour"),
    ("  bedrock: {enabled: true}\n", "evaluators.bedrock.model_id"),
    ("  comprehend: {enabled: true, categories: [gossip]}\n", "evaluators.comprehend.categories"),
    ("  openai: {enabled: true}\n", "evaluators.openai"),
])
def test_bad_evaluator_config_is_a_policy_error(tmp_path: Path, section: str, field: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_engine(policy(tmp_path, section))
    assert caught.value.field == field and "org.yaml" in str(caught.value)
