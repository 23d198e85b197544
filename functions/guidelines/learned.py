"""A small learned second opinion: word and word-pair logistic regression, one model per category.

The phrase and co-occurrence rules are precise but recognize only the wordings they list. This model is
trained (pure Python, deterministic) on the labelled sets in the repository and, as the ``learned``
evaluator, flags a post the rules left alone when one category's probability reaches ``min_confidence``.
The verdict names the sentence that carries the most weight, as its evidence.

Example::

    model = train(examples_from([("posts.jsonl", "labels.jsonl")]))
    model.save(Path("alliance-cme.model.json"))
    category, probability = Model.load(path).best(features_of(views_of(post.text).deleet, True, "post"))
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.guidelines.normalize import Views, views_of
from functions.guidelines.prefilter import TOKEN_RE
from functions.model import CATEGORIES, Post

FORMAT = "socialaudit-learned-1"
MIN_DOCUMENT_FREQUENCY = 2  # a feature seen in one training post only is noise
# Short posts are scored as if they had at least this many known features: with a handful of words one
# unlucky word pair would decide alone (measured: 9 of 193 clean near-miss sentences flagged without it, 5 with).
MIN_FEATURES = 24
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def features_of(deleet: str, is_org: bool, kind: str) -> list[str]:
    """Features of a post: words of its deleet view, adjacent word pairs, who wrote it and where."""
    tokens = TOKEN_RE.findall(deleet)
    found = set(tokens)
    found.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    found.add("@org" if is_org else "@person")
    found.add("@" + kind)
    return sorted(found)  # a set's order changes with the hash seed; sums (and training) must not


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled post as features and its categories."""

    features: list[str]
    categories: frozenset[str]


def examples_from(pairs: Iterable[tuple[Post, Iterable[str]]]) -> list[Example]:
    """Training examples from (post, categories) pairs."""
    return [Example(features_of(views_of(post.text).deleet, post.author.is_org, post.kind), frozenset(categories))
            for post, categories in pairs]


class Model:
    """Per category: a bias and a weight per feature; the score of a post is a logistic of their sum."""

    def __init__(self, weights: dict[str, dict[str, float]], bias: dict[str, float], trained_on: dict[str, Any]):
        self.weights = weights
        self.bias = bias
        self.trained_on = trained_on
        self.categories = tuple(sorted(weights))
        # Per feature, its weight in every category (same order): a post's sums are then one zip over its features.
        self.vectors = {f: tuple(weights[c].get(f, 0.0) for c in self.categories)
                        for f in sorted({f for w in weights.values() for f in w})}
        self.bias_vector = tuple(bias[c] for c in self.categories)

    def logits(self, features: Sequence[str]) -> list[float]:
        """Each category's log-odds for a post's features (in ``self.categories`` order)."""
        vectors = self.vectors
        known = [vectors[f] for f in features if f in vectors]
        if not known:
            return list(self.bias_vector)
        scale = 1.0 / math.sqrt(max(len(known), MIN_FEATURES))
        totals = map(sum, zip(*known, strict=True))
        return [b + scale * total for b, total in zip(self.bias_vector, totals, strict=True)]

    def scores(self, features: Sequence[str]) -> dict[str, float]:
        """Probability of each category for a post's features."""
        return {c: _logistic(z) for c, z in zip(self.categories, self.logits(features), strict=True)}

    def best(self, features: Sequence[str]) -> tuple[str, float]:
        """The most likely category and its probability."""
        logits = self.logits(features)
        top = max(range(len(logits)), key=logits.__getitem__)
        return self.categories[top], _logistic(logits[top])

    def strongest(self, category: str, features: Sequence[str]) -> str | None:
        """The word or word pair of the post that weighs most for ``category`` (None: none weighs for it)."""
        weights = self.weights[category]
        present = [f for f in features if weights.get(f, 0.0) > 0 and not f.startswith("@")]
        return max(present, key=lambda f: (weights[f], f)) if present else None

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "trained_on": self.trained_on, "bias": self.bias,
                "weights": {c: dict(sorted(w.items())) for c, w in self.weights.items()}}

    def save(self, path: Path) -> None:
        """Write the model as JSON (sorted, so a retrain with the same data gives the same file)."""
        path.write_text(json.dumps(self.to_dict(), indent=0, sort_keys=True, ensure_ascii=False) + "\n",
                        encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Model:
        """Read a model file; a file of another format is refused with a clear error."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} model file")
        unknown = set(data["weights"]) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"{path}: unknown categories {sorted(unknown)}")
        return cls({c: {f: float(v) for f, v in w.items()} for c, w in data["weights"].items()},
                   {c: float(v) for c, v in data["bias"].items()}, data.get("trained_on", {}))


def train(examples: Sequence[Example], *, epochs: int = 25, rate: float = 0.2, decay: float = 1e-4, seed: int = 0,
          trained_on: dict[str, Any] | None = None) -> Model:
    """Fit one logistic regression per category by stochastic gradient descent (deterministic for a seed).

    Positives are up-weighted (to a third of the class imbalance) so rare categories are learned at all.
    """
    frequency: dict[str, int] = {}
    for example in examples:
        for feature in example.features:
            frequency[feature] = frequency.get(feature, 0) + 1
    rows = [[f for f in e.features if frequency[f] >= MIN_DOCUMENT_FREQUENCY] for e in examples]
    weights: dict[str, dict[str, float]] = {}
    bias: dict[str, float] = {}
    order = list(range(len(examples)))
    shuffle = random.Random(seed)
    for category in CATEGORIES:
        positives = sum(1 for e in examples if category in e.categories)
        boost = max(1.0, (len(examples) - positives) / max(positives, 1) / 3)
        w: dict[str, float] = {}
        b = 0.0
        for _ in range(epochs):
            shuffle.shuffle(order)
            for number in order:
                row = rows[number]
                scale = 1.0 / math.sqrt(max(len(row), MIN_FEATURES))
                target = category in examples[number].categories
                z = b + scale * sum(w.get(f, 0.0) for f in row)
                error = (_logistic(z) - target) * (boost if target else 1.0)
                step = rate * scale * error
                for feature in row:
                    w[feature] = w.get(feature, 0.0) * (1 - decay) - step
                b -= rate * error * 0.1
        weights[category] = {f: round(v, 4) for f, v in w.items() if abs(v) >= 0.005}
        bias[category] = round(b, 4)
    return Model(weights, bias, trained_on or {"examples": len(examples)})


def evidence_span(views: Views, feature: str | None) -> tuple[int, int]:
    """The original-text span of the sentence holding ``feature`` (a word or word pair), or the first sentence."""
    text = views.deleet
    start = 0
    if feature:
        words = feature.split(" ")
        pattern = r"(?<![a-z0-9])" + r"[^a-z0-9]+".join(re.escape(w) for w in words) + r"(?![a-z0-9])"
        found = re.search(pattern, text)
        if found is not None:
            start = found.start()
    for sentence in _SENTENCE.finditer(text):
        if sentence.end() > start:
            lo, hi = sentence.start(), sentence.end()
            while lo < hi and text[lo].isspace():
                lo += 1
            return views.original_span(lo, max(lo + 1, hi))
    return views.original_span(0, max(1, len(text)))


def model_path(ref: str) -> Path:
    """A bundled model by policy name (``alliance-cme``) or a model file path."""
    from functions.guidelines.policy import POLICY_DIR

    if "/" not in ref and "\\" not in ref and not ref.endswith(".json"):
        return POLICY_DIR / f"{ref}.model.json"
    return Path(ref)


def _logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


