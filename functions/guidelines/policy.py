"""Policies as data: load YAML, resolve ``extends``, validate against the schema, build rules.

A policy file::

    name: acme-cme
    extends: alliance-cme          # optional; a bundled policy name or a path
    allow: {terms: [...], authors: [...], domains: [...]}
    overrides: {spam/petition: {severity: low, action: review, extra_terms: [...]}}
    disable: [political-rant]      # rule ids or whole categories
    evaluators: {comprehend: {enabled: true, max_calls: 50}, bedrock: {...}}
    rules: [...]                   # each: id, category, clause, severity, action, detector, params, when, examples
    examples: [{text: ..., categories: [...]}]

Every error is a :class:`PolicyError` naming the file, the rule and the field.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from functions.guidelines.detectors import DETECTORS, Detector, DetectorConfigError
from functions.guidelines.evaluators import EvaluatorConfigError
from functions.guidelines.evaluators import validate as validate_evaluator
from functions.model import CATEGORIES, KINDS, SEVERITIES

POLICY_DIR = Path(__file__).resolve().parent / "policies"
# libyaml's safe loader when PyYAML was built with it: the same documents, read ~10x faster (engine cold start).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DEFAULT_POLICY = "alliance-cme"
_TOP_KEYS = {"name", "description", "extends", "allow", "overrides", "disable", "evaluators", "rules", "examples"}
_RULE_KEYS = {"id", "category", "clause", "severity", "action", "detector", "params", "when", "examples",
              "description"}
_OVERRIDE_KEYS = {"severity", "action", "extra_terms", "enabled", "clause"}
_WHEN_KEYS = {"is_org", "kinds", "has_parent"}
_ALLOW_KEYS = {"terms", "authors", "domains"}
_EVALUATOR_NAMES = {"comprehend", "bedrock", "learned"}


class PolicyError(ValueError):
    """A policy that cannot be used; the message names file, rule and field."""

    def __init__(self, message: str, *, file: str | None = None, rule: str | None = None, field: str | None = None):
        self.file, self.rule, self.field, self.reason = file, rule, field, message
        where = [part for part in (file, f"rule '{rule}'" if rule else None, f"field '{field}'" if field else None)
                 if part]
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


@dataclass(frozen=True, slots=True)
class Example:
    """A text with the context it is evaluated in."""

    text: str
    is_org: bool = False
    kind: str = "comment"
    parent: str | None = None
    categories: tuple[str, ...] = ()


@dataclass(slots=True)
class Rule:
    """One compiled rule of the effective policy."""

    id: str
    category: str
    clause: str
    severity: str
    action: str
    detector_name: str
    detector: Detector
    when: dict[str, Any]
    must_match: list[Example]
    must_not_match: list[Example]


@dataclass(slots=True)
class Policy:
    """The effective policy: rules after extension, overrides and disabling."""

    name: str
    version: str
    source: str
    rules: list[Rule]
    allow_terms: list[str] = field(default_factory=list)
    allow_authors: frozenset[str] = frozenset()
    allow_domains: list[str] = field(default_factory=list)
    evaluators: dict[str, dict[str, Any]] = field(default_factory=dict)
    examples: list[Example] = field(default_factory=list)


def resolve_path(ref: str, base: Path | None = None) -> Path:
    """A bundled policy name (``alliance-cme``) or a file path, relative to ``base`` when given."""
    if "/" not in ref and "\\" not in ref and not ref.endswith((".yaml", ".yml")):
        return POLICY_DIR / f"{ref}.yaml"
    path = Path(ref)
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def read_document(path: Path) -> dict[str, Any]:
    """Read one YAML policy document, with errors naming the file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy: {exc.strerror or exc}", file=str(path)) from None
    try:
        data = yaml.load(raw, Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}", file=str(path)) from None
    if not isinstance(data, dict):
        raise PolicyError("expected a mapping at the top level", file=str(path))
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise PolicyError(f"unknown key (allowed: {', '.join(sorted(_TOP_KEYS))})", file=str(path),
                          field=sorted(unknown)[0])
    return data


def merged_document(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """The effective raw document after ``extends``; also returns which file each rule came from."""
    path = path.resolve()
    if path in seen:
        raise PolicyError("circular 'extends'", file=str(path), field="extends")
    data = read_document(path)
    origin: dict[str, str] = {}
    parent_ref = data.get("extends")
    if parent_ref is None:
        merged: dict[str, Any] = {"rules": [], "allow": {}, "overrides": {}, "disable": [], "evaluators": {},
                                  "examples": []}
    else:
        if not isinstance(parent_ref, str) or not parent_ref:
            raise PolicyError("expected a policy name or path", file=str(path), field="extends")
        merged, origin = merged_document(resolve_path(parent_ref, path.parent), (*seen, path))
        merged = copy.deepcopy(merged)
    _merge_into(merged, data, path, origin)
    return merged, origin


def _merge_into(merged: dict[str, Any], data: dict[str, Any], path: Path, origin: dict[str, str]) -> None:
    file = str(path)
    merged["name"] = data.get("name", merged.get("name", path.stem))
    for key, kind in (("rules", list), ("examples", list), ("disable", list), ("allow", dict), ("overrides", dict),
                      ("evaluators", dict)):
        if key in data and not isinstance(data[key], kind):
            raise PolicyError(f"expected a {'list' if kind is list else 'mapping'}", file=file, field=key)
    for rule in data.get("rules", []):
        rule_id = rule.get("id") if isinstance(rule, dict) else None
        existing = [i for i, r in enumerate(merged["rules"]) if r.get("id") == rule_id]
        if existing and rule_id:
            merged["rules"][existing[0]] = rule  # a child may replace a parent's rule by id
        else:
            merged["rules"].append(rule)
        origin[str(rule_id)] = file
    merged["examples"].extend(data.get("examples", []))
    merged["disable"].extend(data.get("disable", []))
    allow = data.get("allow", {})
    unknown = set(allow) - _ALLOW_KEYS
    if unknown:
        raise PolicyError(f"unknown allow-list (allowed: {', '.join(sorted(_ALLOW_KEYS))})", file=file,
                          field=f"allow.{sorted(unknown)[0]}")
    for key, values in allow.items():
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise PolicyError("expected a list of non-empty strings", file=file, field=f"allow.{key}")
        merged["allow"].setdefault(key, []).extend(values)
    for rule_id, change in data.get("overrides", {}).items():
        if not isinstance(change, dict):
            raise PolicyError("expected a mapping", file=file, rule=str(rule_id), field="overrides")
        merged["overrides"].setdefault(rule_id, {}).update(change)
        merged["overrides"][rule_id].setdefault("_file", file)
    for name, config in data.get("evaluators", {}).items():
        if name not in _EVALUATOR_NAMES:
            raise PolicyError(f"unknown evaluator (known: {', '.join(sorted(_EVALUATOR_NAMES))})", file=file,
                              field=f"evaluators.{name}")
        if not isinstance(config, dict):
            raise PolicyError("expected a mapping", file=file, field=f"evaluators.{name}")
        merged["evaluators"].setdefault(name, {}).update(config)
        try:
            validate_evaluator(name, merged["evaluators"][name])
        except EvaluatorConfigError as exc:
            raise PolicyError(str(exc).split(": ", 1)[-1], file=file, field=exc.field) from None


def load_policy(policy_path: str | None = None) -> Policy:
    """Load, extend, validate and compile a policy (None = the bundled Alliance for CME policy)."""
    path = resolve_path(policy_path or DEFAULT_POLICY)
    merged, origin = merged_document(path)
    version = hashlib.sha256(json.dumps(_versioned(merged), sort_keys=True, default=str).encode()).hexdigest()[:16]
    rules_by_id = {}
    for raw in merged["rules"]:
        rule = build_rule(raw, origin.get(str(raw.get("id") if isinstance(raw, dict) else None), str(path)),
                          merged["overrides"])
        if rule.id in rules_by_id:
            raise PolicyError("duplicate rule id", file=origin.get(rule.id, str(path)), rule=rule.id, field="id")
        rules_by_id[rule.id] = rule
    _check_overrides(merged["overrides"], rules_by_id)
    disabled = set(merged["disable"])
    for item in disabled:
        if item not in rules_by_id and item not in CATEGORIES:
            raise PolicyError("neither a rule id nor a category", file=str(path), rule=str(item), field="disable")
    rules = [r for r in rules_by_id.values() if r.id not in disabled and r.category not in disabled
             and merged["overrides"].get(r.id, {}).get("enabled", True) is not False]
    return Policy(
        name=str(merged.get("name") or path.stem),
        version=version,
        source=str(path),
        rules=rules,
        allow_terms=list(merged["allow"].get("terms", [])),
        allow_authors=frozenset(h.lower().lstrip("@") for h in merged["allow"].get("authors", [])),
        allow_domains=[d.lower().lstrip(".") for d in merged["allow"].get("domains", [])],
        evaluators=merged["evaluators"],
        examples=[parse_example(e, str(path), None, f"examples[{i}]", whole_policy=True)
                  for i, e in enumerate(merged["examples"])],
    )


def _versioned(merged: dict[str, Any]) -> dict[str, Any]:
    """The effective content that defines behaviour (file names do not change the version)."""
    clean = copy.deepcopy(merged)
    for change in clean["overrides"].values():
        change.pop("_file", None)
    return clean


def _check_overrides(overrides: dict[str, Any], rules: dict[str, Rule]) -> None:
    for rule_id, change in overrides.items():
        file = change.get("_file")
        if rule_id not in rules:
            raise PolicyError("override of a rule that does not exist", file=file, rule=rule_id, field="overrides")
        unknown = set(change) - _OVERRIDE_KEYS - {"_file"}
        if unknown:
            raise PolicyError(f"unknown override (allowed: {', '.join(sorted(_OVERRIDE_KEYS))})", file=file,
                              rule=rule_id, field=sorted(unknown)[0])
        if "enabled" in change and not isinstance(change["enabled"], bool):
            raise PolicyError("expected true or false", file=file, rule=rule_id, field="enabled")


def build_rule(raw: Any, file: str, overrides: dict[str, Any]) -> Rule:
    """Validate one raw rule (with its override applied) and compile its detector."""
    if not isinstance(raw, dict):
        raise PolicyError("each rule must be a mapping", file=file, field="rules")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or "/" not in rule_id:
        raise PolicyError("expected '<category>/<name>'", file=file, rule=str(rule_id), field="id")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise PolicyError(f"unknown key (allowed: {', '.join(sorted(_RULE_KEYS))})", file=file, rule=rule_id,
                          field=sorted(unknown)[0])
    change = overrides.get(rule_id, {})
    effective = {**raw, **{k: v for k, v in change.items() if k in ("severity", "action", "clause")}}
    category = _field(effective, "category", str, file, rule_id)
    if category not in CATEGORIES:
        raise PolicyError(f"unknown category {category!r}", file=file, rule=rule_id, field="category")
    if not rule_id.startswith(f"{category}/"):
        raise PolicyError(f"id must start with '{category}/'", file=file, rule=rule_id, field="id")
    severity = _field(effective, "severity", str, file, rule_id)
    if severity not in SEVERITIES:
        raise PolicyError(f"must be one of {', '.join(SEVERITIES)}", file=change.get("_file", file), rule=rule_id,
                          field="severity")
    detector_name = _field(effective, "detector", str, file, rule_id)
    if detector_name not in DETECTORS:
        raise PolicyError(f"unknown detector (registered: {', '.join(sorted(DETECTORS))})", file=file,
                          rule=rule_id, field="detector")
    params = effective.get("params", {})
    if not isinstance(params, dict):
        raise PolicyError("expected a mapping", file=file, rule=rule_id, field="params")
    extra = change.get("extra_terms", [])
    if not isinstance(extra, list) or not all(isinstance(t, str) and t.strip() for t in extra):
        raise PolicyError("expected a list of non-empty strings", file=change.get("_file", file), rule=rule_id,
                          field="extra_terms")
    try:
        detector = DETECTORS[detector_name](params, extra_terms=extra)  # type: ignore[call-arg]
    except DetectorConfigError as exc:
        raise PolicyError(str(exc).split(": ", 1)[-1], file=file, rule=rule_id, field=f"params.{exc.field}") from None
    examples = effective.get("examples", {})
    if not isinstance(examples, dict) or set(examples) - {"match", "no_match"}:
        raise PolicyError("expected a mapping with 'match' and 'no_match' lists", file=file, rule=rule_id,
                          field="examples")
    return Rule(
        id=rule_id,
        category=category,
        clause=_field(effective, "clause", str, file, rule_id),
        severity=severity,
        action=_field(effective, "action", str, file, rule_id),
        detector_name=detector_name,
        detector=detector,
        when=_when(effective.get("when", {}), file, rule_id),
        must_match=[parse_example(e, file, rule_id, f"examples.match[{i}]")
                    for i, e in enumerate(examples.get("match", []))],
        must_not_match=[parse_example(e, file, rule_id, f"examples.no_match[{i}]")
                        for i, e in enumerate(examples.get("no_match", []))],
    )


def _field(raw: dict[str, Any], name: str, kind: type, file: str, rule_id: str) -> Any:
    if name not in raw:
        raise PolicyError("missing", file=file, rule=rule_id, field=name)
    value = raw[name]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise PolicyError(f"expected a non-empty {kind.__name__}", file=file, rule=rule_id, field=name)
    return value


def _when(raw: Any, file: str, rule_id: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) - _WHEN_KEYS:
        raise PolicyError(f"expected a mapping with keys among {', '.join(sorted(_WHEN_KEYS))}", file=file,
                          rule=rule_id, field="when")
    for key in ("is_org", "has_parent"):
        if key in raw and not isinstance(raw[key], bool):
            raise PolicyError("expected true or false", file=file, rule=rule_id, field=f"when.{key}")
    kinds = raw.get("kinds")
    if kinds is not None and (not isinstance(kinds, list) or not set(kinds) <= set(KINDS)):
        raise PolicyError(f"expected a list among {', '.join(KINDS)}", file=file, rule=rule_id, field="when.kinds")
    return raw


def parse_example(raw: Any, file: str, rule_id: str | None, where: str, *, whole_policy: bool = False) -> Example:
    """An example is a string or a mapping {text, is_org, kind, parent, categories}."""
    if isinstance(raw, str) and raw.strip() and not whole_policy:
        return Example(text=raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise PolicyError("expected a string or a mapping with 'text'", file=file, rule=rule_id, field=where)
    kind = raw.get("kind", "comment")
    if kind not in KINDS:
        raise PolicyError(f"kind must be one of {', '.join(KINDS)}", file=file, rule=rule_id, field=f"{where}.kind")
    categories = raw.get("categories", [])
    if whole_policy and "categories" not in raw:
        raise PolicyError("missing (list the expected categories, [] for none)", file=file, field=f"{where}.categories")
    if not isinstance(categories, list) or not set(categories) <= set(CATEGORIES):
        raise PolicyError("expected a list of known categories", file=file, rule=rule_id, field=f"{where}.categories")
    return Example(text=raw["text"], is_org=bool(raw.get("is_org", False)), kind=kind, parent=raw.get("parent"),
                   categories=tuple(categories))
