"""Build the digest's MIME message (text + HTML alternatives) and send it through SES v2 (raw content)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import quote, urlsplit

from functions.config import EMAIL
from functions.digest.render import RenderedDigest, clean, safe_url

MAX_RECIPIENTS_PER_MESSAGE = 50  # SES v2 limit on destinations of one message
MAX_RAW_BYTES = 2_000_000  # SES allows 10 MB raw; a digest near this is a bug, not a big week
_HEADER_UNSAFE = re.compile(r"[\r\n\x00-\x1f\x7f]")


class DigestSendError(RuntimeError):
    """A digest could not be built into a valid message or SES refused it."""


def check_address(address: str) -> str:
    """An e-mail address safe to put in a header, else ValueError (no CR/LF, no display-name tricks)."""
    if not isinstance(address, str) or _HEADER_UNSAFE.search(address) or not EMAIL.match(address):
        raise ValueError(f"not a plain e-mail address: {str(address)[:80]!r}")
    return address


def build_message(
    rendered: RenderedDigest,
    *,
    sender: str,
    recipients: list[str],
    unsubscribe_url: str | None = None,
    date: str | None = None,
) -> EmailMessage:
    """One multipart/alternative message: the plain text first, the HTML preferred."""
    sender = check_address(sender)
    if not recipients:
        raise ValueError("a digest needs at least one recipient")
    if len(recipients) > MAX_RECIPIENTS_PER_MESSAGE:
        raise ValueError(f"at most {MAX_RECIPIENTS_PER_MESSAGE} recipients per message, got {len(recipients)}")
    addresses = [check_address(a) for a in recipients]
    message = EmailMessage(policy=SMTP)
    message["Subject"] = clean(rendered.subject)[:250] or "[socialaudit] weekly digest"
    message["From"] = sender
    message["To"] = ", ".join(addresses)
    message["Date"] = date or formatdate(usegmt=True)
    message["Message-ID"] = make_msgid("digest", domain=sender.rsplit("@", 1)[1])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a report
    message["X-Auto-Response-Suppress"] = "All"
    message["Precedence"] = "bulk"
    for name, value in unsubscribe_headers(sender, unsubscribe_url).items():
        message[name] = value
    message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


def unsubscribe_headers(sender: str, unsubscribe_url: str | None) -> dict[str, str]:
    """List-Unsubscribe (mailto, plus https when given) and, with https, RFC 8058 one-click."""
    targets = [f"<mailto:{quote(sender, safe='@')}?subject=unsubscribe>"]
    url = safe_url(unsubscribe_url)
    one_click = url is not None and urlsplit(url).scheme.lower() == "https"
    if one_click:
        targets.insert(0, f"<{url}>")
    headers = {"List-Unsubscribe": ", ".join(targets)}
    if one_click:  # RFC 8058 requires an https target for the POST; mailto alone must not claim it
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def message_bytes(message: EmailMessage) -> bytes:
    """The wire form (CRLF line ends), checked against the size ceiling."""
    raw = message.as_bytes(policy=SMTP)
    if len(raw) > MAX_RAW_BYTES:
        raise DigestSendError(f"digest message is {len(raw)} bytes, over the {MAX_RAW_BYTES}-byte ceiling")
    return raw


def send_raw(sesv2_client: Any, raw: bytes, *, sender: str, **extra: Any) -> str:
    """Send prepared MIME bytes through SES v2; returns the SES message id.

    No ``Destination``: SES then delivers to the message's own To header, so the envelope can never
    differ from what the recipients see (and the 50-recipient limit counts each address once).
    """
    response = sesv2_client.send_email(FromEmailAddress=check_address(sender), Content={"Raw": {"Data": raw}}, **extra)
    return str(response["MessageId"])


def send_digest(
    sesv2_client: Any,
    rendered: RenderedDigest,
    *,
    sender: str,
    recipients: list[str],
    unsubscribe_url: str | None = None,
    configuration_set: str | None = None,
) -> str:
    """Send one digest message (text + HTML) to up to 50 recipients; returns the SES message id."""
    raw = message_bytes(build_message(rendered, sender=sender, recipients=recipients, unsubscribe_url=unsubscribe_url))
    extra = {"ConfigurationSetName": configuration_set} if configuration_set else {}
    return send_raw(sesv2_client, raw, sender=sender, **extra)
