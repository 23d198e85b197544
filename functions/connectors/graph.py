"""What Facebook Pages and Instagram share: the Graph API's paging, usage headers and error codes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from functions.connectors.base import PayloadError, PlatformAuthError
from functions.connectors.tracking import PostRef, ThreadedConnector
from functions.logs import event, get_logger

_log = get_logger("connectors.graph")

THROTTLE_CODES = {4, 17, 32, 613, 80001, 80002, 80005, 80006}  # app, user, page and business-use-case limits
IDS_PER_CALL = 50  # the Graph API's limit for ?ids=
AUTH_CODES = {10, 102, 190, 200}  # bad or expired token, missing permission


class GraphConnector(ThreadedConnector):
    """A Graph API account: cursor pages through ``paging.next``, throttled by the usage headers."""

    default_base_url = "https://graph.facebook.com"
    api_version: ClassVar[str] = "v21.0"
    token_fields: ClassVar[tuple[str, ...]] = ("access_token", "token")
    slow_down_at: ClassVar[int] = 80  # percent of a usage limit: pause between calls from here
    stop_at: ClassVar[int] = 95  # percent: wait for the window to reset (or stop the run) from here
    slow_down_seconds: ClassVar[float] = 2.0
    ids_per_call: ClassVar[int] = IDS_PER_CALL  # tracked posts whose comments one ?ids= call fetches
    inline_comments: ClassVar[str]  # the comments field (with its sub-fields) inlined in post listings

    def __init__(self, account: Any, context: Any):
        super().__init__(account, context)
        self._inline: dict[str, dict[str, Any]] = {}  # post id -> its inlined comments block

    def node_url(self, node: str, edge: str) -> str:
        version = str(self.account.options.get("api_version", self.api_version))
        return f"{self.base_url}/{version}/{node}/{edge}"

    def graph_pages(self, url: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Each object of a Graph edge, following ``paging.next`` until the edge ends."""
        headers = {"Authorization": f"Bearer {self.credential(*self.token_fields)}"}
        next_url: str | None = url
        query: Mapping[str, Any] | None = params
        while next_url:
            page = self.fetch(next_url, params=query, headers=headers).data
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise PayloadError("a Graph page without a 'data' list")
            for item in page["data"]:
                if isinstance(item, dict):
                    yield item
            next_url = (page.get("paging") or {}).get("next")
            query = None
            if next_url:
                next_url = without_token(next_url)

    def prefetch_comments(self, posts: list[PostRef]) -> None:
        """Fetch the inlined comments of up to 50 tracked posts per call (``?ids=``) into ``self._inline``."""
        headers = {"Authorization": f"Bearer {self.credential(*self.token_fields)}"}
        version = str(self.account.options.get("api_version", self.api_version))
        for start in range(0, len(posts), self.ids_per_call):
            ids = ",".join(p.native_id for p in posts[start : start + self.ids_per_call])
            page = self.fetch(f"{self.base_url}/{version}/", params={"ids": ids, "fields": self.inline_comments},
                              headers=headers).data
            if not isinstance(page, dict):
                raise PayloadError("an ?ids= answer that is not an object")
            for node_id, node in page.items():
                if isinstance(node, dict):
                    self._inline[str(node_id)] = node.get("comments") or {"data": []}

    def observe(self, response: Any, data: Any) -> None:
        """Slow down near the usage limits and wait (or stop) at them."""
        percent, regain = usage(response.headers)
        if percent >= self.stop_at:
            event(_log, "Graph usage at its limit", logging.WARNING, percent=percent)
            self._wait_or_stop(regain * 60 if regain else self.default_wait_seconds)
        elif percent >= self.slow_down_at:
            self.context.sleep(self.slow_down_seconds)

    def rate_limit_wait(self, response: Any, *, now: float) -> float | None:
        if response.status_code == 429:
            return super().rate_limit_wait(response, now=now)
        if response.status_code in (400, 403) and _error_code(response) in THROTTLE_CODES:
            _, regain = usage(response.headers)
            return regain * 60 if regain else self.default_wait_seconds
        return None

    def check_auth(self, response: Any) -> None:
        if response.status_code in (401, 403) or (response.status_code == 400 and _error_code(response) in AUTH_CODES):
            raise PlatformAuthError(
                f"{self.platform} refused the token of account {self.account.key!r} "
                f"(HTTP {response.status_code}, code {_error_code(response)})"
            )


def usage(headers: Mapping[str, str]) -> tuple[int, int]:
    """Highest usage percent in X-App-Usage / X-Business-Use-Case-Usage, and minutes to regain access."""
    percent, regain = 0, 0
    for name in ("X-App-Usage", "X-Ad-Account-Usage", "X-Business-Use-Case-Usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        entries = [value] if name != "X-Business-Use-Case-Usage" else [e for v in value.values() for e in v]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in ("call_count", "total_cputime", "total_time"):
                if isinstance(entry.get(key), (int, float)):
                    percent = max(percent, int(entry[key]))
            if isinstance(entry.get("estimated_time_to_regain_access"), (int, float)):
                regain = max(regain, int(entry["estimated_time_to_regain_access"]))
    return percent, regain


def _error_code(response: Any) -> int | None:
    try:
        code = response.json().get("error", {}).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def without_token(url: str) -> str:
    """A next-page link without its ``access_token`` (the token travels in a header, never in a URL)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "access_token"]
    return urlunsplit(parts._replace(query=urlencode(query)))
