"""The demo's platform tokens: made up for the local sandbox, worthless anywhere else.

``demo_secrets()`` gives the Secrets Manager entries that the accounts file names, so the local
stack can create them in moto before a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ACCOUNTS_FILE = Path(__file__).resolve().parent.parent / "samples" / "accounts.yaml"

# One token per platform; the sandbox accepts exactly these.
DEMO_TOKENS: dict[str, str] = {
    "x": "sandbox-x-bearer-not-a-real-token",
    "facebook": "sandbox-facebook-page-token-not-real",
    "instagram": "sandbox-instagram-token-not-real",
    "linkedin": "sandbox-linkedin-token-not-real",
    "youtube": "sandbox-youtube-api-key-not-real",
    "mastodon": "sandbox-mastodon-token-not-real",
    "bluesky": "sandbox-bluesky-app-password-not-real",
}

# How each platform's connector expects its secret to look (field names of the JSON secret).
SECRET_FIELDS: dict[str, str] = {
    "x": "bearer_token",
    "facebook": "page_access_token",
    "instagram": "access_token",
    "linkedin": "access_token",
    "youtube": "api_key",
    "mastodon": "access_token",
    "bluesky": "app_password",
}


def demo_secret(platform: str, account: str) -> dict[str, Any]:
    """The secret JSON of one demo account."""
    value: dict[str, Any] = {SECRET_FIELDS[platform]: DEMO_TOKENS[platform]}
    if platform == "bluesky":
        value["identifier"] = account
    return value


def demo_secrets(accounts_file: str | Path = ACCOUNTS_FILE) -> dict[str, dict[str, Any]]:
    """Secret name -> secret JSON for every account of the demo accounts file."""
    import yaml

    data = yaml.safe_load(Path(accounts_file).read_text(encoding="utf-8"))
    return {
        entry["secret"]: demo_secret(entry["platform"], entry["account"])
        for entry in data.get("accounts", [])
        if entry.get("secret")
    }
