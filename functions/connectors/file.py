"""A connector over a JSON Lines file of normalized posts (``options: {source: file, path: ...}``).

Used for offline audits of exported data and for tests; it follows the same cursor contract
as the platform connectors: items are yielded in (created_at, id) order after the cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from functions.connectors.base import Connector, ConnectorError, register
from functions.model import Post, RecordError, read_posts


@register("file")
class FileConnector(Connector):
    platform = "file"

    def collect(self, cursor: dict[str, Any] | None) -> Iterator[Post]:
        path = Path(str(self.account.options.get("path", "")))
        after = (cursor or {}).get("position", "")
        try:
            with path.open("rb") as handle:  # bytes: read_posts replaces what is not UTF-8 instead of failing
                mine = [
                    p
                    for p in read_posts(handle)
                    if p.platform == self.account.platform and p.account == self.account.account
                ]
        except OSError as exc:
            raise ConnectorError(f"cannot read {path.name}: {exc.strerror}") from None
        except RecordError as exc:
            raise ConnectorError(f"{path.name}: {exc}") from None
        self.requests_made += 1
        position = after
        for post in sorted(mine, key=_position):
            key = _position(post)
            if key <= after:
                continue
            position = max(position, key)
            yield post
        self.cursor = {"position": position}


def _position(post: Post) -> str:
    return f"{post.created_at}|{post.id}"
