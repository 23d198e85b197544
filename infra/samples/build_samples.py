"""Writes ``posts.jsonl`` and ``labels.jsonl``: the demo organization's accounts on all seven platforms.

The texts are written for the demo (not taken from the development corpus). Each platform's ids,
author ids and links follow that platform's real shapes, exactly as its connector normalizes them,
so ``sandbox(posts) -> connector`` gives back the same records. Run: ``python -m infra.samples.build_samples``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from infra.samples.texts import MENTIONS, THREADS, Thread

HERE = Path(__file__).parent
START = datetime(2026, 11, 12, 8, 0, tzinfo=UTC)

# Who is who on each platform: key -> (native user id, handle, display name).
ORG = {
    "x": ("1490000000000000001", "lakeshorecme", "Lakeshore CME"),
    "facebook": ("104800000000001", "LakeshoreCME", "Lakeshore CME"),
    "instagram": ("17841400000000001", "lakeshorecme", "lakeshorecme"),
    "linkedin": ("urn:li:organization:90000001", "lakeshore-cme", "lakeshore-cme"),
    "youtube": ("UCl4keshoreCMEchannel0001", "LakeshoreCME", "LakeshoreCME"),
    "mastodon": ("109000000000000001", "lakeshorecme", "Lakeshore CME"),
    "bluesky": ("did:plc:lakeshorecmeaaaaaaaaaaaa", "lakeshorecme.bsky.social", "Lakeshore CME"),
}
ACCOUNT = {
    "x": "LakeshoreCME",
    "facebook": "LakeshoreCME",
    "instagram": "lakeshorecme",
    "linkedin": "lakeshore-cme",
    "youtube": "LakeshoreCME",
    "mastodon": "lakeshorecme",
    "bluesky": "lakeshorecme.bsky.social",
}
PEOPLE = {
    # key: (display name, handle stem, is staff)
    "maya": ("Dr. Maya Chen", "drmayachen", True),
    "priya": ("Priya Natarajan", "pnatarajan_md", False),
    "tom": ("Tom Okafor", "tomokafor", False),
    "lena": ("Lena Fischer RN", "lenafischer_rn", False),
    "marcus": ("Marcus Hale", "marcushale", False),
    "sofia": ("Dr. Sofia Reyes", "sreyes_peds", False),
    "ken": ("Ken Whitfield", "kwhitfield", False),
    "ava": ("Ava Lindqvist", "ava_lindq", False),
    "raj": ("Raj Mehta DO", "rajmehta_do", False),
    "bill": ("Bill Carver", "patriot_bill", False),
    "nora": ("Nora Quinn", "noraquinn", False),
    "derek": ("Derek Simms", "dsimms_pharma", False),
    "profit": ("Profit Pathways", "profit_pathways", False),
    "glow": ("Glow Skin Deals", "glowskin_deals", False),
    "subs": ("freesubs 4u", "freesubs_4u", False),
    "viewer": ("angry viewer 88", "angry_viewer88", False),
}
MASTODON_HOME = {"maya": "", "lena": "nurses.social", "ken": "mastodon.example", "bill": "freedom.example"}
MASTODON_INSTANCE = "med-mastodon.example"

def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _snowflake(moment: datetime, seq: int) -> str:
    """An X/Mastodon-style id that grows with time, like the real ones."""
    return str(((int(moment.timestamp() * 1000) - 1288834974657) << 22) + seq)


_TID = "234567abcdefghijklmnopqrstuvwxyz"


def _tid(moment: datetime, seq: int) -> str:
    """A Bluesky record key (TID): base32-sortable microseconds since the epoch."""
    value = (int(moment.timestamp() * 1_000_000) << 10) | (seq & 0x3FF)
    out = ""
    for _ in range(13):
        out = _TID[value & 31] + out
        value >>= 5
    return out


def author_for(platform: str, who: str) -> dict[str, Any]:
    """The normalized author of ``who`` on ``platform``, as its connector builds it."""
    if who == "org":
        native, handle, name = ORG[platform]
        return {"id": f"{platform}:user:{native}", "handle": handle, "name": name, "is_org": True}
    name, stem, staff = PEOPLE[who]
    number = 1000 + list(PEOPLE).index(who)
    if platform == "x":
        return _person(platform, f"20000000{number}", stem, name, staff)
    if platform == "facebook":
        native = f"1000{number}0000{number}"
        return _person(platform, native, native, name, staff)
    if platform == "instagram":
        return _person(platform, f"1784150000{number}", stem, stem, staff)
    if platform == "linkedin":
        urn = f"urn:li:person:{stem.replace('_', '').title()}{number}"
        return _person(platform, urn, stem.replace("_", "-"), name, staff)
    if platform == "youtube":
        return _person(platform, f"UC{stem.replace('_', '')[:10]:x<10}{number}chan0000", stem, stem, staff)
    if platform == "mastodon":
        home = MASTODON_HOME.get(who, "med.social")
        return _person(platform, f"1090000000000{number}", f"{stem}@{home}" if home else stem, name, staff)
    handle = f"{stem.replace('_', '')}.bsky.social"
    return _person(platform, f"did:plc:{stem.replace('_', '')[:12]:a<12}{number}aaaaaaaa", handle, name, staff)


def _person(platform: str, native: str, handle: str, name: str, staff: bool) -> dict[str, Any]:
    return {"id": f"{platform}:user:{native}", "handle": handle, "name": name, "is_org": staff}


class Ids:
    """Native ids, links and parents of one platform's items, in that platform's real shapes."""

    def __init__(self, platform: str):
        self.platform = platform
        self.seq = 0

    def native(self, moment: datetime, parent: dict[str, Any] | None, root: dict[str, Any] | None) -> str:
        self.seq += 1
        p = self.platform
        if p in ("x", "mastodon"):
            return _snowflake(moment, self.seq)
        if p == "facebook":
            page = ORG["facebook"][0]
            if root is None:
                return f"{page}_{9000000 + self.seq}"
            return f"{root['_native'].split('_')[1]}_{7000000 + self.seq}"
        if p == "instagram":
            return str(17900000000000000 + self.seq * 37)
        if p == "linkedin":
            if root is None:
                return f"urn:li:share:72600000000000{self.seq:05d}"
            return f"urn:li:comment:({root['_native']},72610000000000{self.seq:05d})"
        if p == "youtube":
            if root is None:
                return f"Lk{self.seq:03d}vid{chr(97 + self.seq % 26)}Qz"[:11]
            if parent is root:
                return f"UgzLakeshore{self.seq:04d}AaABAg"
            return f"{(parent or {})['_native']}.9Lk{self.seq:04d}rpl"
        did = ORG["bluesky"][0] if root is None else None
        return f"{did or '{did}'}|{_tid(moment, self.seq)}"

    def url(self, native: str, author: dict[str, Any], root: dict[str, Any] | None) -> str:
        p = self.platform
        if p == "x":
            return f"https://x.com/{author['handle']}/status/{native}"
        if p == "facebook":
            page = ORG["facebook"][0]
            if root is None:
                return f"https://www.facebook.com/{page}/posts/{native.split('_')[1]}"
            return f"https://www.facebook.com/{page}/posts/{root['_native'].split('_')[1]}?comment_id={native.split('_')[1]}"
        if p == "instagram":
            return root["url"] if root else f"https://www.instagram.com/p/C{int(native) % 10**9:09d}x/"
        if p == "linkedin":
            if root is None:
                return f"https://www.linkedin.com/feed/update/{native}/"
            return f"https://www.linkedin.com/feed/update/{root['_native']}/?commentUrn={quote(native, safe='')}"
        if p == "youtube":
            if root is None:
                return f"https://www.youtube.com/watch?v={native}"
            return f"https://www.youtube.com/watch?v={root['_native']}&lc={native}"
        if p == "mastodon":
            handle = author["handle"]
            user, _, home = handle.partition("@")
            return f"https://{home or MASTODON_INSTANCE}/@{user}/{native}"
        rkey = native.split("/")[-1]
        return f"https://bsky.app/profile/{author['handle']}/post/{rkey}"


def build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All sample items (posts first, each followed by its comments and replies) and their labels."""
    posts: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    for item, cats in iter_items():
        _emit(posts, labels, item, cats)
    return posts, labels


def iter_items(
    *, start: datetime = START, thread_step: timedelta | None = None, copies: int = 1, comment_scale: float = 1.0
) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """(item, labels) of every thread, ``copies`` times over with fresh ids; threads ``thread_step`` apart."""
    ids = {platform: Ids(platform) for platform in THREADS}
    for copy in range(copies):
        for p_index, (platform, threads) in enumerate(THREADS.items()):
            for t_index, thread in enumerate(threads):
                if thread_step is None:
                    at = start + timedelta(days=t_index * 3, hours=p_index * 2)
                else:
                    at = start + thread_step * ((copy * len(threads) + t_index) * len(THREADS) + p_index)
                yield from _thread(platform, ids[platform], thread, at, comment_scale)
            if platform == "x" and copy == 0 and thread_step is None:
                for who, m_text, m_labels, hours in MENTIONS:
                    moment = start + timedelta(hours=hours)
                    yield _item(platform, ids[platform], "comment", who, m_text, moment, None, None), m_labels


def _thread(
    platform: str, ids: Ids, thread: Thread, at: datetime, scale: float
) -> Iterator[tuple[dict[str, Any], list[str]]]:
    text, post_labels, comments = thread
    root = _item(platform, ids, "post", "org", text, at, None, None)
    yield root, post_labels
    for c_index, (who, c_text, c_labels, replies) in enumerate(comments):
        c_at = at + timedelta(minutes=scale * (60 + c_index * 187))
        comment = _item(platform, ids, "comment", who, c_text, c_at, root, root)
        yield comment, c_labels
        for r_index, (r_who, r_text, r_labels) in enumerate(replies):
            r_at = c_at + timedelta(minutes=scale * (25 + 40 * r_index))
            yield _item(platform, ids, "reply", r_who, r_text, r_at, comment, root), r_labels


def _item(
    platform: str,
    ids: Ids,
    kind: str,
    who: str,
    text: str,
    at: datetime,
    parent: dict[str, Any] | None,
    root: dict[str, Any] | None,
) -> dict[str, Any]:
    author = author_for(platform, who)
    native = ids.native(at, parent, root)
    if platform == "bluesky":
        did = author["id"].split(":user:", 1)[1]
        native = f"at://{did}/app.bsky.feed.post/{native.split('|')[1]}"
    item = {
        "id": f"{platform}:{native}",
        "platform": platform,
        "account": ACCOUNT[platform],
        "kind": kind,
        "author": author,
        "text": text,
        "created_at": _stamp(at),
        "url": ids.url(native, author, root),
        "parent_id": parent["id"] if parent else None,
        "lang": "en" if platform in ("x", "mastodon", "bluesky") else None,
        "_native": native,
    }
    return item


def _emit(posts: list[dict[str, Any]], labels: list[dict[str, Any]], item: dict[str, Any], cats: list[str]) -> None:
    posts.append({k: v for k, v in item.items() if not k.startswith("_")})
    labels.append({"id": item["id"], "categories": cats, "note": "demo sample"})


def main() -> None:
    posts, labels = build()
    with (HERE / "posts.jsonl").open("w", encoding="utf-8") as out:
        for record in posts:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with (HERE / "labels.jsonl").open("w", encoding="utf-8") as out:
        for record in labels:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(posts)} items")


if __name__ == "__main__":
    main()
