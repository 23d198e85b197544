"""Shared fixtures: real moto AWS services, the development corpus, sample records."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
sys.path.insert(0, str(ROOT))

# Never let a test reach a real AWS account, whatever the developer's shell has.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)

BUCKET = "socialaudit-test"


@pytest.fixture
def aws() -> Iterator[None]:
    """Real moto services (in-process) for the duration of a test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def s3(aws: None) -> Any:
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def store(s3: Any) -> Any:
    from functions.store import FindingsStore

    return FindingsStore(s3, BUCKET)


def post_dict(**overrides: Any) -> dict[str, Any]:
    """A valid normalized post as a dict, with fields overridden."""
    data: dict[str, Any] = {
        "id": "x:1001",
        "platform": "x",
        "account": "AllianceCME",
        "kind": "comment",
        "author": {"id": "x:user:42", "handle": "drjane", "name": "Jane Roe", "is_org": False},
        "text": "Great session, thank you!",
        "created_at": "2026-11-20T14:03:00Z",
        "url": "https://x.com/drjane/status/1001",
        "parent_id": "x:1000",
        "lang": "en",
    }
    data.update(overrides)
    return data
