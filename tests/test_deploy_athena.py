"""The Athena table over the findings prefix matches the findings format and the store's S3 layout."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from functions.model import Author, Finding
from functions.store import FindingsStore
from tests.test_fanout import KeywordEngine

ATHENA = Path(__file__).resolve().parent.parent / "infra" / "athena"
DDL = (ATHENA / "findings_table.sql").read_text()


def table_columns() -> list[tuple[str, str]]:
    body = DDL.split("CREATE EXTERNAL TABLE", 1)[1].split("(", 1)[1].split("\n)\n", 1)[0]
    return [tuple(line.strip().rstrip(",").split(None, 1)) for line in body.strip().splitlines()]  # type: ignore[misc]


def table_properties() -> dict[str, str]:
    return dict(re.findall(r"'([a-z.]+)'\s*=\s*'([^']*)'", DDL.split("TBLPROPERTIES", 1)[1]))


def sample_finding() -> Finding:
    from functions.model import Post

    post = Post(id="x:1", platform="x", account="AllianceCME", kind="comment",
                author=Author(id="x:user:1", handle="troll", name="T"), text="idiot", created_at="2026-11-20T10:00:00Z")
    (finding,) = KeywordEngine().findings(post, run_id="20261124T060000Z-0123abcd", detected_at="2026-11-24T06:00:01Z")
    return finding


def test_columns_are_the_finding_fields_in_order() -> None:
    names = [name for name, _ in table_columns()]
    assert names == list(sample_finding().to_dict()) + ["clause", "kind", "excerpt"]
    assert set(names) == set(Finding.__slots__)  # type: ignore[attr-defined]


def test_author_struct_matches_the_author_record() -> None:
    kinds = dict(table_columns())
    fields = re.findall(r"(\w+):(\w+)", kinds["author"])
    assert [name for name, _ in fields] == list(Author(id="a", handle="b", name="c").to_dict())
    assert dict(fields)["is_org"] == "boolean" and kinds["confidence"] == "double"


def test_partition_projection_on_the_day_matches_the_store_layout() -> None:
    properties = table_properties()
    assert "PARTITIONED BY (dt string)" in DDL
    assert properties["projection.enabled"] == "true" and properties["projection.dt.type"] == "date"
    assert properties["projection.dt.format"] == "yyyy-MM-dd" and properties["projection.dt.range"].endswith(",NOW")
    key = FindingsStore.findings_key("x-main", "20261124T060000Z-0123abcd", date(2026, 11, 24))
    template = properties["storage.location.template"].replace("s3://${FINDINGS_BUCKET}/", "")
    assert key.startswith(template.replace("${dt}", "2026-11-24"))
    assert "LOCATION 's3://${FINDINGS_BUCKET}/findings/'" in DDL


def test_example_queries_prune_partitions_and_use_known_author_fields() -> None:
    queries = sorted((ATHENA / "queries").glob("*.sql"))
    assert {q.stem for q in queries} >= {"findings_per_week", "repeat_offenders"}
    for query in queries:
        text = query.read_text()
        assert "FROM socialaudit.findings" in text and re.search(r"WHERE dt >= ", text), query.name
        for struct_field in re.findall(r"\bauthor\.(\w+)", text):
            assert struct_field in Author.__slots__, (query.name, struct_field)  # type: ignore[attr-defined]
