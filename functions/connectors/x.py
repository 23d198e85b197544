"""X (Twitter) API v2 through tweepy's ``Client``: the account's posts, the replies to them, its mentions.

- Posts: ``GET /2/users/:id/tweets`` with ``exclude=retweets,replies`` (the account's own replies
  are found in their conversations instead), ``since_id`` from the cursor.
- Replies: ``GET /2/tweets/search/recent?query=conversation_id:A OR conversation_id:B ...``,
  twelve conversations per search (the query may hold 512 characters; ``options:
  {conversations_per_search: N}`` for higher access levels), with ``since_id`` = the oldest of
  their newest replies seen. Recent search covers seven days, so posts are tracked that long.
- Mentions: ``GET /2/users/:id/mentions`` since the last mention seen, skipping tweets of tracked
  conversations (already collected above).
All at ``max_results=100``, paged by tweepy's ``Paginator``. Hidden replies: the v2 API has no
"hidden" field on tweets and search still returns hidden replies (hiding only folds them away
in the app), so they are collected and audited like any other reply.

tweepy builds URLs from a fixed host; :class:`_Client` sends every call through
:meth:`HttpConnector.fetch` at ``base_url`` instead (sandbox, recordings), which also keeps the
bearer token out of tweepy's debug log.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any, ClassVar

from functions.connectors.base import HttpConnector, Page, PayloadError, PlatformAuthError, register
from functions.connectors.limits import pages, roots_and_posts
from functions.connectors.tracking import Mark, PostRef, ThreadedConnector
from functions.model import Author, Post, format_time, parse_time

TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "lang"]
USER_FIELDS = ["username", "name"]


class _Answer:
    """What tweepy expects back from ``request``: something with ``.json()``."""

    def __init__(self, page: Page):
        self._page = page

    def json(self) -> Any:
        return self._page.data


def _client_class() -> type:
    import tweepy  # deferred: only X accounts pay for importing tweepy

    class _Client(tweepy.Client):  # type: ignore[misc]
        def __init__(self, connector: HttpConnector, bearer_token: str):
            super().__init__(bearer_token=bearer_token, return_type=dict)
            self._connector = connector

        def request(
            self, method: str, route: str, params: Any = None, json: Any = None, user_auth: bool = False
        ) -> _Answer:
            headers = {"Authorization": f"Bearer {self.bearer_token}", "User-Agent": self.user_agent}
            url = self._connector.base_url + route
            return _Answer(self._connector.fetch(url, params=params, headers=headers, method=method, json_body=json))

        def __repr__(self) -> str:
            return "XClient()"  # never the token

    return _Client


@register("x")
class XConnector(ThreadedConnector):
    platform = "x"
    default_base_url = "https://api.x.com"
    page_size: ClassVar[int] = 100
    comment_page_size: ClassVar[int] = 100
    track_days: ClassVar[float] = 7.0  # recent search reaches back seven days
    comment_batch_size: int = 12  # "conversation_id:<19 digits>" x 12 joined by " OR " < 512 chars

    def __init__(self, account: Any, context: Any):
        super().__init__(account, context)
        self._client: Any = None
        per_search = account.options.get("conversations_per_search")
        if per_search:
            self.comment_batch_size = max(1, int(per_search))

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _client_class()(self, self.credential("bearer_token", "token"))
        return self._client

    @property
    def user_id(self) -> str:
        if not self.account.native_id:
            raise self._config_error("needs 'id': the numeric user id of the account")
        return self.account.native_id

    def _config_error(self, message: str) -> Exception:
        return PlatformAuthError(f"account {self.account.key!r} {message}")

    def collect_items(self, cursor: dict[str, Any]) -> Iterator[Post]:
        yield from super().collect_items(cursor)
        yield from self._mentions(self.cursor or {})

    def list_posts(self, since: Mark | None, horizon: str) -> Iterator[Post]:
        params = self._params(since_id=_newest_id(since), start_time=None if since else horizon)
        for tweet, users in self._pages(self.client.get_users_tweets, self.user_id, exclude=["retweets", "replies"],
                                        **params):
            post = self.skip_bad(tweet, users, None)
            if post is not None:
                yield post

    def list_comments(self, post: PostRef, seen: Mark | None) -> Iterator[Post]:
        for _, item in self.list_comments_batch([post], {post.native_id: seen}):
            yield item

    def list_comments_batch(self, posts: list[PostRef], seen: dict[str, Mark | None]) -> Iterator[tuple[str, Post]]:
        """Replies in the posts' conversations, one search for all of them (newest first)."""
        roots = {post.native_id for post in posts}
        # One since_id for all: the oldest of the newest replies seen (a reply is always newer than its post).
        since = min((_newest_id(seen.get(root)) or root for root in roots), key=lambda i: (len(i), i))
        query = " OR ".join(f"conversation_id:{root}" for root in sorted(roots))
        for tweet, users in self._pages(self.client.search_recent_tweets, query,
                                        **self._params(since_id=since, start_time=None)):
            root = str(tweet.get("conversation_id", ""))
            if root not in roots or tweet.get("id") == root:
                continue
            item = self.skip_bad(tweet, users, root)
            if item is not None:
                yield root, item

    def _mentions(self, cursor: dict[str, Any]) -> Iterator[Post]:
        since = cursor.get("mentions")
        tracked = set((cursor.get("tracked") or {}).keys()) | self.walked_posts
        start = None if since else format_time(self.now().replace(microsecond=0) - timedelta(days=self.track_days))
        newest = since
        try:
            for tweet, users in self._pages(self.client.get_users_mentions, self.user_id,
                                            **self._params(since_id=since, start_time=start)):
                if str(tweet.get("id", "")).isdigit() and (newest is None or int(tweet["id"]) > int(newest)):
                    newest = str(tweet["id"])
                if tweet.get("conversation_id") in tracked:
                    continue  # collected with its conversation
                item = self.skip_bad(tweet, users, tweet.get("conversation_id"))
                if item is not None:
                    yield item
        except PayloadError as exc:
            self.skip("mentions", exc)
            return
        self.cursor = {**(self.cursor or {}), "mentions": newest}

    def _params(self, *, since_id: str | None, start_time: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "max_results": self.page_size,
            "tweet_fields": TWEET_FIELDS,
            "expansions": ["author_id"],
            "user_fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        if start_time:
            params["start_time"] = start_time
        return params

    def _pages(self, method: Any, *args: Any, **kwargs: Any) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        import tweepy

        for page in tweepy.Paginator(method, *args, **kwargs):
            if not isinstance(page, dict):
                continue
            users = {str(u.get("id")): u for u in (page.get("includes") or {}).get("users", []) if isinstance(u, dict)}
            for tweet in page.get("data") or []:
                if isinstance(tweet, dict):
                    yield tweet, users

    def skip_bad(self, tweet: dict[str, Any], users: dict[str, Any], root: str | None) -> Post | None:
        """The tweet as a Post, or None (logged) when it lacks what a Post needs."""
        try:
            return self.to_post(tweet, users, root)
        except (KeyError, TypeError, ValueError) as exc:
            self.skip(f"tweet {str(tweet.get('id'))[:30]}", exc)
            return None

    def to_post(self, tweet: dict[str, Any], users: dict[str, Any], root: str | None) -> Post:
        """Normalize one tweet; ``root`` is the conversation's post (None for the account's own posts)."""
        tweet_id = str(tweet["id"])
        user = users.get(tweet["author_id"]) or {"id": tweet["author_id"], "username": tweet["author_id"], "name": ""}
        handle = str(user["username"])
        parent = next((r["id"] for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"), None)
        if root is None or parent is None:
            kind = "post" if root is None else "comment"
        else:
            kind = "comment" if parent == tweet.get("conversation_id", root) else "reply"
        return Post(
            id=f"x:{tweet_id}",
            platform="x",
            account=self.account.account,
            kind=kind,
            author=Author(
                id=f"x:user:{user['id']}",
                handle=handle,
                name=str(user.get("name") or ""),
                is_org=self.is_org(handle, str(user["id"])),
            ),
            text=str(tweet["text"]),
            created_at=format_time(parse_time(tweet["created_at"])),
            url=f"https://x.com/{handle}/status/{tweet_id}",
            parent_id=f"x:{parent}" if parent else None,
            lang=tweet.get("lang"),
        )

    @classmethod
    def minimum_for_account(cls, items: list[Post]) -> int:
        """Timeline pages + one search per 12 posts (more for long threads) + the mentions listing's pages.

        X's mentions endpoint returns every tweet mentioning the account, replies to its posts
        included, and offers no filter for "not in a conversation I track", so its pages count.
        """
        items = list(items)
        org = {p.author.id: p.author.handle.lower() for p in items if p.kind == "post"}
        by_id = {p.id: p for p in items}
        mentions = 0
        for item in items:
            if item.kind == "post" or item.author.id in org:
                continue
            parent = by_id.get(item.parent_id or "")
            answers_org = parent is not None and parent.author.id in org
            if answers_org or any(f"@{h}" in item.text.lower() for h in org.values()):
                mentions += 1
        n_posts, per_post, _, _ = roots_and_posts(items)
        newest_first = sorted((p for p in items if p.kind == "post"), key=lambda p: (p.created_at, p.id), reverse=True)
        batches = [newest_first[i : i + cls.comment_batch_size] for i in range(0, n_posts, cls.comment_batch_size)]
        searches = sum(pages(sum(per_post[p.id] for p in batch), cls.comment_page_size) for batch in batches)
        return pages(n_posts, cls.page_size) + searches + pages(mentions, cls.page_size)


def _newest_id(mark: Mark | None) -> str | None:
    if not mark:
        return None
    return max(mark["ids"], key=lambda i: (len(i), i)) if mark["ids"] else None

