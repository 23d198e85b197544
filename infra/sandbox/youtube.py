"""YouTube Data API v3 in the sandbox: uploads playlist items, comment threads, and replies."""

from __future__ import annotations

from typing import Any

from functions.model import Post
from infra.sandbox.data import PlatformData, decode_cursor, encode_cursor, native, user_native
from infra.sandbox.server import Reply, Request, Sandbox

PLAYLIST_MAX = 50
COMMENTS_MAX = 100
INLINE_REPLIES = 5


def handle(sandbox: Sandbox, request: Request) -> Reply:
    data = sandbox.data.platform("youtube")
    resource = request.path.removeprefix("/youtube/v3/")
    if resource == "playlistItems":
        playlist = request.arg("playlistId") or ""
        account = data.by_owner.get("UC" + playlist[2:]) if playlist.startswith("UU") else None
        if account is None:
            return _error(404, "playlistNotFound", "The playlist identified with the request's playlistId "
                          "parameter cannot be found.")
        return _list(request, "youtube#playlistItemListResponse", account.posts, _playlist_item, account.name,
                     PLAYLIST_MAX)
    if resource == "commentThreads":
        video = request.arg("videoId") or ""
        if video not in data.items:
            return _error(404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
        threads = data.children.get(video, [])
        if (request.arg("order") or "time") == "time":
            threads = threads[::-1]
        parts = request.arg("part") or ""
        return _list(request, "youtube#commentThreadListResponse", threads,
                     lambda p: _thread(data, p, "replies" in parts), data.account_of.get(video), COMMENTS_MAX)
    if resource == "comments":
        parent = request.arg("parentId") or ""
        if parent not in data.items:
            return _error(404, "commentNotFound", "The comment could not be found.")
        return _list(request, "youtube#commentListResponse", data.children.get(parent, []), _comment,
                     data.account_of.get(parent), COMMENTS_MAX)
    return _error(404, "notFound", "Not Found")


def _list(request: Request, kind: str, items: list[Post], render: Any, account: str | None, most: int) -> Reply:
    size = request.int_arg("maxResults", 5 if "playlist" in kind else 20)
    if not 0 <= size <= most:
        return _error(400, "invalidValue", f"Invalid value for maxResults: must be between 0 and {most}", account)
    offset = decode_cursor(request.arg("pageToken"))
    chunk = items[offset : offset + size]
    body: dict[str, Any] = {"kind": kind, "etag": f"sandbox-{offset}",
                            "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
                            "items": [render(p) for p in chunk]}
    if offset + size < len(items):
        body["nextPageToken"] = encode_cursor(offset + size)
    return Reply(200, body, {}, account)


def _playlist_item(post: Post) -> dict[str, Any]:
    title, _, description = post.text.partition("\n\n")
    channel = user_native(post)
    return {
        "kind": "youtube#playlistItem",
        "etag": f"etag-{native(post)}",
        "id": f"UU{channel[2:]}.{native(post)}",
        "snippet": {
            "publishedAt": post.created_at,
            "channelId": channel,
            "title": title,
            "description": description,
            "channelTitle": post.author.name,
            "playlistId": f"UU{channel[2:]}",
            "resourceId": {"kind": "youtube#video", "videoId": native(post)},
            "videoOwnerChannelTitle": post.author.name,
            "videoOwnerChannelId": channel,
        },
        "contentDetails": {"videoId": native(post), "videoPublishedAt": post.created_at},
    }


def _comment(post: Post) -> dict[str, Any]:
    channel = user_native(post)
    snippet: dict[str, Any] = {
        "channelId": "",
        "textDisplay": post.text,
        "textOriginal": post.text,
        "authorDisplayName": "@" + post.author.handle,
        "authorProfileImageUrl": "https://yt3.ggpht.com/sandbox",
        "authorChannelUrl": f"http://www.youtube.com/@{post.author.handle}",
        "authorChannelId": {"value": channel},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": post.created_at,
        "updatedAt": post.created_at,
    }
    if post.kind == "reply" and post.parent_id:
        snippet["parentId"] = post.parent_id.split(":", 1)[1]
    return {"kind": "youtube#comment", "etag": f"etag-{native(post)}", "id": native(post), "snippet": snippet}


def _thread(data: PlatformData, post: Post, with_replies: bool) -> dict[str, Any]:
    video = post.parent_id.split(":", 1)[1] if post.parent_id else ""
    replies = data.children.get(native(post), [])
    top = _comment(post)
    top["snippet"]["videoId"] = video
    thread: dict[str, Any] = {
        "kind": "youtube#commentThread",
        "etag": f"etag-t-{native(post)}",
        "id": native(post),
        "snippet": {"channelId": data.items[video].author.id.split(":user:", 1)[1] if video in data.items else "",
                    "videoId": video, "topLevelComment": top, "canReply": True,
                    "totalReplyCount": len(replies), "isPublic": True},
    }
    if with_replies and replies:
        thread["replies"] = {"comments": [_comment(r) for r in replies[:INLINE_REPLIES]]}
    return thread


def _error(status: int, reason: str, message: str, account: str | None = None) -> Reply:
    detail = {"message": message, "domain": "youtube", "reason": reason}
    error = {"code": status, "message": message, "errors": [detail]}
    return Reply(status, {"error": error}, account=account)
