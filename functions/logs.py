"""Structured JSON logs with a correlation id, scrubbed of every registered secret value."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("socialaudit_log_context")
_secrets: set[str] = set()
REDACTED = "[redacted]"


def register_secret(value: str) -> None:
    """Never let ``value`` reach a log line (tokens read from Secrets Manager call this)."""
    if isinstance(value, str) and len(value) >= 6:
        _secrets.add(value)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add fields (run_id, account, ...) to every log line inside the block."""
    token = _context.set({**_context.get({}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context fields, extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context.get({}),
        }
        for key, value in getattr(record, "fields", {}).items():
            payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        # ensure_ascii escapes control characters and non-ASCII, so hostile text cannot forge lines
        return scrub(json.dumps(payload, default=str, ensure_ascii=True))


def get_logger(name: str) -> logging.Logger:
    """A logger under the ``socialaudit`` root, which writes JSON lines to stderr."""
    root = logging.getLogger("socialaudit")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = True
    return logging.getLogger(f"socialaudit.{name}")


def event(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``message`` with structured ``fields``."""
    logger.log(level, message, extra={"fields": fields})
