"""Bluesky through AT Protocol XRPC: the account's posts and the threads under them.

``app.bsky.feed.getAuthorFeed?actor=...&filter=posts_no_replies&limit=100`` pages newest first by
``cursor``; ``app.bsky.feed.getPostThread?uri=...&depth=1000&parentHeight=0`` returns a tracked
post's whole reply tree in one call. The secret holds an app password (``identifier`` +
``app_password``, exchanged once per run through ``com.atproto.server.createSession``) or a
ready ``access_jwt``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from functions.connectors.base import PayloadError, PlatformAuthError, register
from functions.connectors.limits import threaded_minimum
from functions.connectors.tracking import Mark, PostRef, ThreadedConnector
from functions.logs import register_secret
from functions.model import Author, Post, format_time, parse_time

THREAD_DEPTH = 1000  # the API's maximum
AUTH_ERRORS = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AccountTakedown", "AccountDeactivated"}


@register("bluesky")
class BlueskyConnector(ThreadedConnector):
    platform = "bluesky"
    default_base_url = "https://bsky.social"
    page_size = 100
    comment_page_size = 10_000  # getPostThread returns the whole tree in one answer

    def __init__(self, account: Any, context: Any):
        super().__init__(account, context)
        self._jwt: str | None = None

    def _headers(self) -> dict[str, str]:
        if self._jwt is None:
            self._jwt = self._session_token()
        return {"Authorization": f"Bearer {self._jwt}"}

    def _session_token(self) -> str:
        secret = self.context.secrets.get(self.account.secret) if self.account.secret else {}
        if isinstance(secret.get("access_jwt"), str) and secret["access_jwt"]:
            return self.credential("access_jwt")
        password = self.credential("app_password", "password")
        identifier = str(secret.get("identifier") or self.account.account)
        answer = self.fetch(f"{self.base_url}/xrpc/com.atproto.server.createSession", method="POST",
                            json_body={"identifier": identifier, "password": password}).data
        token = answer.get("accessJwt") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise PlatformAuthError(f"Bluesky gave account {self.account.key!r} no session")
        register_secret(token)
        return token

    def check_auth(self, response: Any) -> None:
        super().check_auth(response)
        if response.status_code == 400:
            try:
                error = response.json().get("error")
            except (ValueError, AttributeError):
                return
            if error in AUTH_ERRORS:
                raise PlatformAuthError(f"Bluesky refused the session of account {self.account.key!r} ({error})")

    def _xrpc(self, method: str, params: dict[str, Any]) -> Any:
        return self.fetch(f"{self.base_url}/xrpc/{method}", params=params, headers=self._headers()).data

    def list_posts(self, since: Mark | None, horizon: str) -> Iterator[Post]:
        actor = self.account.native_id or self.account.account
        params: dict[str, Any] = {"actor": actor, "limit": self.page_size, "filter": "posts_no_replies"}
        while True:
            page = self._xrpc("app.bsky.feed.getAuthorFeed", params)
            if not isinstance(page, dict) or not isinstance(page.get("feed"), list):
                raise PayloadError("an author feed without a 'feed' list")
            for entry in page["feed"]:
                if not isinstance(entry, dict) or entry.get("reason"):
                    continue  # reposts are someone else's post
                post = self._convert(entry.get("post"), None)
                if post is not None:
                    yield post
            if not page.get("cursor") or not page["feed"]:
                return
            params = {**params, "cursor": page["cursor"]}

    def list_comments(self, post: PostRef, seen: Mark | None) -> Iterator[Post]:
        page = self._xrpc("app.bsky.feed.getPostThread", {"uri": post.native_id, "depth": THREAD_DEPTH,
                                                          "parentHeight": 0})
        thread = page.get("thread") if isinstance(page, dict) else None
        if not isinstance(thread, dict):
            raise PayloadError("a thread answer without 'thread'")
        stack = list(reversed(thread.get("replies") or []))
        while stack:
            node = stack.pop()
            if not isinstance(node, dict) or node.get("$type", "").rsplit("#", 1)[-1] != "threadViewPost":
                continue  # notFoundPost, blockedPost: nothing to audit
            item = self._convert(node.get("post"), post.native_id)
            if item is not None:
                yield item
            stack.extend(reversed(node.get("replies") or []))

    def _convert(self, raw: Any, root: str | None) -> Post | None:
        try:
            return self.to_post(raw, root)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.skip(f"bluesky post {str(raw.get('uri') if isinstance(raw, dict) else '')[:80]}", exc)
            return None

    def to_post(self, raw: dict[str, Any], root: str | None) -> Post:
        """Normalize a post view; ``root`` is the tracked post's URI (None for the account's own posts)."""
        uri = str(raw["uri"])
        who = raw["author"]
        record = raw["record"]
        handle = str(who["handle"])
        parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
        kind = "post" if root is None else ("comment" if parent == root else "reply")
        langs = record.get("langs") or []
        return Post(
            id=f"bluesky:{uri}",
            platform="bluesky",
            account=self.account.account,
            kind=kind,
            author=Author(
                id=f"bluesky:user:{who['did']}",
                handle=handle,
                name=str(who.get("displayName") or ""),
                is_org=self.is_org(handle, str(who["did"])),
            ),
            text=str(record["text"]),
            created_at=format_time(parse_time(record["createdAt"])),
            url=f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}",
            parent_id=f"bluesky:{parent}" if parent and root is not None else None,
            lang=langs[0] if langs else None,
        )

    @classmethod
    def minimum_for_account(cls, items: list[Post]) -> int:
        return threaded_minimum(items, cls.page_size, cls.comment_page_size, extra_listings=1)  # the session
