"""The guideline engine: policies as data, detectors by name, one verdict per category.

Example::

    from functions.guidelines import load_engine
    engine = load_engine()                 # the Alliance for CME policy
    verdicts = engine.evaluate(post)       # [Verdict(category="profanity", ...)]
"""

from functions.guidelines import cooccurrence as _cooccurrence  # noqa: F401  (registers the detector)
from functions.guidelines.engine import Engine, Verdict, load_engine
from functions.guidelines.policy import PolicyError

__all__ = ["Engine", "PolicyError", "Verdict", "load_engine"]
