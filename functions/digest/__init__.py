"""The weekly digest: aggregate a period's findings, render them (HTML + text), archive and e-mail them.

Modules: ``build`` (findings → :class:`Digest`), ``render`` (Jinja templates in ``templates/``),
``mail`` (MIME + SES v2), ``weekly`` (the idempotent weekly step).
"""

from functions.digest.build import Digest, FailedAccount, RepeatOffender, Trend, build_digest
from functions.digest.mail import build_message, send_digest
from functions.digest.render import RenderedDigest, render_digest, render_report
from functions.digest.weekly import DigestResult, run_weekly_digest

__all__ = [
    "Digest",
    "DigestResult",
    "FailedAccount",
    "RenderedDigest",
    "RepeatOffender",
    "Trend",
    "build_digest",
    "build_message",
    "render_digest",
    "render_report",
    "run_weekly_digest",
    "send_digest",
]
