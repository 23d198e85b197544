"""The `make demo` path itself: local stack, sandbox, real connectors and handlers, digest read back."""

from __future__ import annotations

from email import message_from_bytes, policy

from infra.demo import RECIPIENTS, run_demo


def test_demo_runs_end_to_end_and_writes_an_openable_digest(tmp_path):
    summary = run_demo(tmp_path, quiet=True)
    counts = summary["counts"]
    assert summary["status"] == "ok"
    assert counts["accounts"] == 7 and counts["failed_accounts"] == 0
    assert counts["items"] > 50 and counts["findings"] > 5
    assert sum(summary["by_severity"].values()) == counts["findings"]

    html = (tmp_path / "digest.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "Needs action now".lower() in html.lower()
    assert "<script" not in html.lower()

    message = message_from_bytes((tmp_path / "digest.eml").read_bytes(), policy=policy.default)
    assert {a.addr_spec for a in message["To"].addresses} >= set(RECIPIENTS)
    assert message.get_body(preferencelist=("plain",)) is not None
    assert str(counts["findings"]) in message["Subject"]
    assert (tmp_path / "demo.log").stat().st_size > 0
