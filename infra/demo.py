"""`make demo`: the whole job, end to end, on the embedded local stack.

moto (S3, SES, SQS, Secrets Manager) on loopback, the platform sandbox serving the sample
accounts in each platform's wire format, the real connectors, the real handlers; the digest
e-mail is read back from moto and written to out/digest.html and out/digest.eml.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from infra.localstack import scheduled_event

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "infra" / "samples"
BUCKET = "socialaudit-demo"
SENDER = "digest@socialaudit.example"
RECIPIENTS = ["comms-team@socialaudit.example"]


def run_demo(out_dir: Path, *, quiet: bool = False) -> dict[str, Any]:
    """Run collection, audit and the weekly digest on the local stack; return a summary."""
    from functions.runtime import reset_runtime
    from infra.localstack import LocalStack
    from infra.sandbox import demo_secrets, start_sandbox

    out_dir.mkdir(parents=True, exist_ok=True)
    _log_to(out_dir / "demo.log")
    with ExitStack() as stack:
        local = stack.enter_context(LocalStack())
        sandbox = stack.enter_context(start_sandbox(SAMPLES / "posts.jsonl"))
        local.create_bucket(BUCKET)
        local.verify_sender(SENDER)
        local.put_secrets(demo_secrets())
        queue_url = local.create_queue("socialaudit-demo-accounts")
        env = local.settings_env(
            bucket=BUCKET, accounts_path=str(SAMPLES / "accounts.yaml"), sender=SENDER, recipients=RECIPIENTS
        )
        env["SANDBOX_URL"] = sandbox.url
        env["SOCIALAUDIT_QUEUE_URL"] = queue_url
        stack.enter_context(_environment(env))
        reset_runtime()
        stack.callback(reset_runtime)

        audit = _collect(queue_url)
        digest = _send_digest()
        messages = local.sent_messages()
        if not messages:
            raise SystemExit("demo: no digest e-mail reached the local SES")
        html_path, eml_path = _write_digest(_organization_digest(messages), out_dir)
        summary = _summary(audit, digest, html_path, eml_path)
    if not quiet:
        _print_summary(summary)
    return summary


def _log_to(path: Path) -> None:
    """Send the structured logs to a file, so the terminal shows only the summary."""
    import logging

    from functions.logs import JsonFormatter

    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("socialaudit")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def _collect(queue_url: str) -> dict[str, Any]:
    """The daily schedule: dispatch fans accounts out to the queue, the worker audits each."""
    from functions.handlers import dispatch, worker
    from functions.runtime import get_runtime
    from infra.fanout import drain_queue

    dispatched = dispatch.handler(scheduled_event("socialaudit-dispatch", datetime.now(UTC)))
    drain_queue(queue_url, worker.handler)
    run = get_runtime().store.get_run(dispatched["run_id"])
    summary = run.to_dict()
    summary.pop("accounts")
    summary["account_results"] = run.to_dict()["accounts"]
    return summary


def _send_digest() -> dict[str, Any]:
    from functions.handlers import digest

    return digest.handler(scheduled_event("socialaudit-weekly-digest", datetime.now(UTC)))


class _environment:
    """Set environment variables for the block, restoring them after."""

    def __init__(self, values: dict[str, str]):
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for name, value in self.values.items():
            self.saved[name] = os.environ.get(name)
            os.environ[name] = value

    def __exit__(self, *exc: object) -> None:
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _organization_digest(messages: list[EmailMessage]) -> EmailMessage:
    """The digest sent to the organization-wide recipients (teams get their own, smaller ones)."""
    wanted = {a.lower() for a in RECIPIENTS}
    for message in messages:
        if wanted & {a.addr_spec.lower() for a in message["To"].addresses}:
            return message
    return messages[0]


def _write_digest(message: EmailMessage, out_dir: Path) -> tuple[Path, Path]:
    eml_path = out_dir / "digest.eml"
    eml_path.write_bytes(message.as_bytes())
    html_part = message.get_body(preferencelist=("html",))
    if html_part is None:
        raise SystemExit("demo: the digest e-mail has no HTML part")
    html_path = out_dir / "digest.html"
    html_path.write_text(html_part.get_content(), encoding="utf-8")
    return html_path, eml_path


def _summary(audit: dict[str, Any], digest: dict[str, Any], html: Path, eml: Path) -> dict[str, Any]:
    from functions.runtime import get_runtime

    store = get_runtime().store
    keys = [r["findings_key"] for r in audit.get("account_results", {}).values() if r.get("findings_key")]
    findings = [f for key in keys for f in store.read_findings_object(key)]
    return {
        "run_id": audit.get("run_id"),
        "status": audit.get("status"),
        "counts": audit.get("counts", {}),
        "errors": audit.get("errors", []),
        "by_severity": dict(Counter(f.severity for f in findings)),
        "by_category": dict(Counter(f.category for f in findings)),
        "digest": digest,
        "digest_html": str(html),
        "digest_eml": str(eml),
    }


def _print_summary(summary: dict[str, Any]) -> None:
    counts = summary["counts"]
    order = ("critical", "high", "medium", "low")
    severities = ", ".join(f"{summary['by_severity'].get(s, 0)} {s}" for s in order)
    print("socialaudit demo — local stack (moto) + platform sandbox")
    print(f"  run {summary['run_id']}: {summary['status']}")
    print(f"  accounts audited: {counts.get('accounts', 0)} ({counts.get('failed_accounts', 0)} failed)")
    print(f"  items collected:  {counts.get('items', 0)} in {counts.get('requests', 0)} platform requests")
    print(f"  findings:         {counts.get('findings', 0)} ({severities})")
    for error in summary["errors"]:
        print(f"  failed: {error['account']} on {error['platform']}: {error['kind']}: {error['message']}")
    print(f"  digest e-mail:    {summary['digest_html']}")
    print(f"                    {summary['digest_eml']}")
    print(f"  open it:          xdg-open {summary['digest_html']}   (or any browser)")
    print(f"  logs:             {Path(summary['digest_html']).parent / 'demo.log'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "out"), help="where to write the digest (default: out/)")
    args = parser.parse_args(argv)
    run_demo(Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
