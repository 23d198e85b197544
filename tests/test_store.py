from datetime import date

import pytest

from functions.model import AccountResult, Author, Finding, RunRecord, finding_id_for
from functions.store import check_run_id, new_run_id

AUTHOR = Author(id="x:user:1", handle="troll", name="T", is_org=False)


def finding(post_id: str, run_id: str, *, text: str = "text", category: str = "spam") -> Finding:
    rule = f"{category}/test"
    return Finding(
        finding_id=finding_id_for(post_id, rule, text),
        post_id=post_id,
        platform="x",
        account="AllianceCME",
        category=category,
        rule=rule,
        severity="medium",
        action="remove",
        confidence=0.8,
        evidence=text,
        post_url=None,
        author=AUTHOR,
        created_at="2026-11-20T10:00:00Z",
        detected_at="2026-11-24T10:00:00Z",
        policy="alliance-cme",
        policy_version="v1",
        run_id=run_id,
    )


def test_findings_are_written_once_per_account_run_under_hive_partitions(store, s3):
    run_id = new_run_id()
    findings = [finding("x:1", run_id), finding("x:2", run_id)]
    key = store.put_findings("x-AllianceCME", run_id, findings, day=date(2026, 11, 24))
    assert key == f"findings/dt=2026-11-24/account=x-AllianceCME/run={run_id}.jsonl"
    body = s3.get_object(Bucket=store.bucket, Key=key)["Body"].read().decode()
    assert len(body.splitlines()) == 2
    assert store.writes == 1


def test_no_object_for_a_run_without_findings(store, s3):
    assert store.put_findings("x-AllianceCME", new_run_id(), [], day=date(2026, 11, 24)) is None
    assert "Contents" not in s3.list_objects_v2(Bucket=store.bucket)


def test_rewriting_the_same_run_never_overwrites(store, s3):
    run_id = new_run_id()
    day = date(2026, 11, 24)
    store.put_findings("x-A", run_id, [finding("x:1", run_id)], day=day)
    store.put_findings("x-A", run_id, [finding("x:1", run_id), finding("x:9", run_id)], day=day)
    assert [f.post_id for f in store.iter_findings(day, date(2026, 11, 25))] == ["x:1"]


def test_iter_findings_reads_the_period_and_drops_repeated_ids(store):
    first, second = new_run_id(), new_run_id()
    store.put_findings("x-A", first, [finding("x:1", first)], day=date(2026, 11, 20))
    store.put_findings("x-A", second, [finding("x:1", second), finding("x:2", second)], day=date(2026, 11, 21))
    store.put_findings("fb-B", second, [finding("x:3", second)], day=date(2026, 11, 28))
    week = list(store.iter_findings(date(2026, 11, 17), date(2026, 11, 24)))
    assert sorted(f.post_id for f in week) == ["x:1", "x:2"]
    only_b = list(store.iter_findings(date(2026, 11, 17), date(2026, 12, 1), accounts=["fb-B"]))
    assert [f.post_id for f in only_b] == ["x:3"]


def test_cursor_in_flight_marker_until_cursor_saved(store):
    state = store.get_cursor("x-A")
    assert state.cursor is None and state.in_flight == []
    store.mark_in_flight("x-A", state, "findings/dt=2026-11-24/account=x-A/run=r.jsonl", "r")
    assert store.get_cursor("x-A").in_flight == ["findings/dt=2026-11-24/account=x-A/run=r.jsonl"]
    store.save_cursor("x-A", {"since_id": "99"}, "r")
    state = store.get_cursor("x-A")
    assert state.cursor == {"since_id": "99"} and state.in_flight == []


def test_run_record_merges_account_results(store):
    run = RunRecord(run_id=new_run_id(), trigger="schedule", started_at="2026-11-24T13:00:00Z")
    run.accounts = {"x-A": AccountResult("A", "x", status="pending"), "fb-B": AccountResult("B", "facebook")}
    store.put_run(run)
    store.put_account_result(run.run_id, AccountResult("A", "x", items=5, findings=2), "x-A")
    loaded = store.get_run(run.run_id)
    assert loaded.accounts["x-A"].items == 5
    assert loaded.accounts["fb-B"].status == "pending"
    assert store.list_runs() == [run.run_id]
    assert store.get_run(new_run_id()) is None


def test_digest_claim_is_exclusive_until_released(store):
    period = date(2026, 11, 30)
    assert store.claim_digest(period, "r1") is True
    assert store.claim_digest(period, "r2") is False
    store.release_digest(period)
    assert store.claim_digest(period, "r3") is True


@pytest.mark.parametrize("bad", ["../../x", "20261124T130000Z-zzzz", "", "r/../../x"])
def test_run_ids_that_could_escape_keys_are_refused(bad):
    with pytest.raises(ValueError):
        check_run_id(bad)


def test_unsafe_account_keys_are_refused(store):
    with pytest.raises(ValueError):
        store.findings_key("../evil", new_run_id(), date(2026, 11, 24))
