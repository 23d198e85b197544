"""Each platform's own error bodies and rate-limit headers, as its API documents them."""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime

from infra.sandbox.server import Reply


def auth_error(platform: str, status: int) -> Reply:
    """A refused token (401) or a missing permission (403), in the platform's format."""
    denied = status == 403
    if platform == "x":
        title = "Forbidden" if denied else "Unauthorized"
        return Reply(status, {"title": title, "type": "about:blank", "status": status, "detail": title})
    if platform in ("facebook", "instagram"):
        # Graph API: a bad token is HTTP 400 with OAuthException code 190; a missing permission is code 10.
        if denied:
            error = {"message": "(#10) Application does not have permission for this action", "code": 10}
            return Reply(403, {"error": {**error, "type": "OAuthException", "fbtrace_id": "AsandboxTrace"}})
        error = {"message": "Invalid OAuth access token - Cannot parse access token", "code": 190}
        return Reply(400, {"error": {**error, "type": "OAuthException", "fbtrace_id": "AsandboxTrace"}})
    if platform == "linkedin":
        if denied:
            return Reply(403, {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                               "message": "Not enough permissions to access this resource"})
        return Reply(401, {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
                           "message": "Invalid access token"})
    if platform == "youtube":
        reason, text = ("forbidden", "Forbidden") if denied else ("authError", "Invalid Credentials")
        error = {"code": status, "message": text, "errors": [{"message": text, "domain": "global", "reason": reason}]}
        return Reply(status, {"error": {**error, "status": "PERMISSION_DENIED" if denied else "UNAUTHENTICATED"}})
    if platform == "mastodon":
        return Reply(status, {"error": "This action is not allowed" if denied else "The access token is invalid"})
    return Reply(status, {"error": "Forbidden" if denied else "AuthenticationRequired",
                          "message": "Forbidden" if denied else "Authentication Required"})


def rate_limited(platform: str, retry_after: float) -> Reply:
    """A rate-limit answer with the headers the platform sends."""
    reset = int(time.time() + retry_after)
    if platform == "x":
        headers = {"x-rate-limit-limit": "900", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
        body = {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429}
        return Reply(429, body, headers)
    if platform in ("facebook", "instagram"):
        # Graph API throttling: HTTP 400, error code 4 or 32, and the usage header says when access returns.
        minutes = max(1, math.ceil(retry_after / 60))
        usage = {"type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 60,
                 "estimated_time_to_regain_access": minutes}
        headers = {"X-Business-Use-Case-Usage": json.dumps({"104800000000001": [usage]}),
                   "X-App-Usage": json.dumps({"call_count": 100, "total_cputime": 40, "total_time": 60})}
        error = {"message": "(#32) Page request limit reached", "type": "OAuthException", "code": 32,
                 "fbtrace_id": "AsandboxTrace"}
        return Reply(400, {"error": error}, headers)
    if platform == "mastodon":
        reset_at = datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        headers = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset_at}
        return Reply(429, {"error": "Too many requests"}, headers)
    if platform == "bluesky":
        headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(reset),
                   "ratelimit-policy": "3000;w=300"}
        return Reply(429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers)
    headers = {"Retry-After": str(int(math.ceil(retry_after)))}
    if platform == "youtube":
        error = {"code": 429, "message": "Too many requests", "errors": [
            {"message": "Too many requests", "domain": "youtube.quota", "reason": "rateLimitExceeded"}]}
        return Reply(429, {"error": error}, headers)
    return Reply(429, {"status": 429, "message": "Resource level throttle APPLICATION DAY limit reached"}, headers)


def with_usage(reply: Reply, percent: int) -> Reply:
    """The same answer with Graph API usage headers at ``percent`` of the limit."""
    usage = {"call_count": percent, "total_cputime": max(1, percent // 3), "total_time": max(1, percent // 2)}
    business = {**usage, "type": "pages", "estimated_time_to_regain_access": 0}
    reply.headers["X-App-Usage"] = json.dumps(usage)
    reply.headers["X-Business-Use-Case-Usage"] = json.dumps({"104800000000001": [business]})
    return reply
