"""The `socialaudit` command as a user runs it: real subprocesses for the offline audit, moto for S3."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from functions.cli import main
from functions.model import read_findings
from functions.store import new_run_id
from tests.conftest import BUCKET, CORPUS, ROOT
from tests.test_store import finding


def socialaudit(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "functions.cli", *args],
        input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_audit_writes_findings_for_the_corpus_and_exits_zero(tmp_path):
    out = tmp_path / "findings.jsonl"
    done = socialaudit("audit", "--input", str(CORPUS / "posts.jsonl"), "--output", str(out))
    assert done.returncode == 0, done.stderr
    findings = list(read_findings(out.read_text(encoding="utf-8").splitlines()))
    assert len(findings) > 50
    assert "audited 105 items" in done.stderr


def test_audit_reads_stdin_and_writes_stdout():
    clean = json.dumps({
        "id": "x:1", "platform": "x", "account": "A", "kind": "comment",
        "author": {"id": "x:user:1", "handle": "h", "name": "H", "is_org": False},
        "text": "Thank you, the module on sepsis was excellent.", "created_at": "2026-11-20T10:00:00Z",
    })
    done = socialaudit("audit", "--input", "-", "--output", "-", stdin=clean + "\n")
    assert done.returncode == 0 and done.stdout == ""


def test_bad_lines_are_named_skipped_and_the_rest_is_audited():
    good = (CORPUS / "posts.jsonl").read_text(encoding="utf-8").splitlines()[40]  # a profane comment
    bad = json.dumps({"id": "x:2", "platform": "myspace"})
    done = socialaudit("audit", "--input", "-", stdin="\n".join([bad, "{oops", good]) + "\n")
    assert done.returncode == 2
    assert "line 1, field 'platform'" in done.stderr
    assert "line 2: invalid JSON" in done.stderr
    assert len(list(read_findings(done.stdout.splitlines()))) >= 1


def test_missing_input_file_is_a_clear_error(tmp_path):
    done = socialaudit("audit", "--input", str(tmp_path / "nope.jsonl"))
    assert done.returncode == 2 and "No such file" in done.stderr


def test_findings_list_and_ack_against_the_store(store, monkeypatch, capsys):
    monkeypatch.setenv("SOCIALAUDIT_BUCKET", BUCKET)
    run_id = new_run_id()
    first, second = finding("x:1", run_id), finding("x:2", run_id)
    store.put_findings("x-A", run_id, [first, second], day=date(2026, 11, 20))

    assert main(["findings", "list", "--since", "2026-11-17", "--until", "2026-11-24"]) == 0
    assert [f.post_id for f in read_findings(capsys.readouterr().out.splitlines())] == ["x:1", "x:2"]

    assert main(["findings", "ack", first.finding_id, "--by", "comms@example.org", "--note", "hidden"]) == 0
    capsys.readouterr()
    assert main(["findings", "list", "--since", "2026-11-17", "--until", "2026-11-24", "--open"]) == 0
    assert [f.post_id for f in read_findings(capsys.readouterr().out.splitlines())] == ["x:2"]

    assert main(["findings", "ack", "../../etc/passwd", "--by", "me"]) == 2
    assert "not a finding id" in capsys.readouterr().err
