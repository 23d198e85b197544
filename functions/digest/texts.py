"""Words the digest shows: category names, guideline clauses, suggested actions, severities."""

from __future__ import annotations

from dataclasses import dataclass

from functions.model import Finding


@dataclass(frozen=True, slots=True)
class CategoryText:
    """How the digest names a category and which guideline clause it enforces."""

    label: str
    clause: str  # guideline number in shared/spec/guidelines.md
    quote: str  # the guideline's own words
    next_step: str  # what the category usually needs beyond the action


CATEGORY_TEXT = {
    "profanity": CategoryText("Profanity", "2", "obscene … profane", ""),
    "harassment": CategoryText(
        "Harassment",
        "2, 8",
        "harassing, abusive … avoid challenging or attacking others",
        "Warn the author.",
    ),
    "threat": CategoryText("Threat", "2", "threatening", "Escalate to security."),
    "hate": CategoryText("Hate", "2", "hateful", "Consider blocking the author."),
    "defamation": CategoryText(
        "Defamation",
        "2",
        "defamatory … libelous … embarrassing to another … entity",
        "Ask legal to review.",
    ),
    "confidential-information": CategoryText(
        "Confidential information",
        "5",
        "do not provide confidential or other proprietary information",
        "Act today: it stays visible until removed.",
    ),
    "private-conversation": CategoryText(
        "Private conversation",
        "6",
        "ask permission before publishing conversations meant to be private",
        "Ask the author for permission.",
    ),
    "copyright": CategoryText("Copyright", "5", "respect copyright, fair use", "Attribute it or remove it."),
    "financial-disclosure": CategoryText(
        "Financial disclosure", "5", "financial disclosure laws", "Remove it if no disclosure is added."
    ),
    "spam": CategoryText("Spam", "7", "no petitions, chain letters, get-rich-quick schemes, hoaxes or spam", ""),
    "political-rant": CategoryText("Political rant", "7", "no political rants", ""),
    "commercial-solicitation": CategoryText(
        "Commercial solicitation", "7", "no soliciting business or commercial messages", ""
    ),
}

ACTION_TEXT = {
    "hide": "Hide the item",
    "remove": "Remove the item",
    "delete": "Delete the item",
    "review": "Review the item",
    "warn": "Warn the author",
    "escalate": "Escalate",
    "block": "Block the author",
    "disclose": "Ask for a disclosure",
    "notify": "Notify the team",
}

SEVERITY_COLOR = {"critical": "#b42318", "high": "#c4320a", "medium": "#b54708", "low": "#475467"}
SEVERITY_BG = {"critical": "#fef3f2", "high": "#fff6ed", "medium": "#fffaeb", "low": "#f2f4f7"}

KIND_TEXT = {"post": "Post", "comment": "Comment", "reply": "Reply"}


def category_label(category: str) -> str:
    text = CATEGORY_TEXT.get(category)
    return text.label if text else category


def clause_text(finding: Finding) -> str:
    """The guideline clause a finding breaks: the policy's own if it gave one, else the category's."""
    if finding.clause:
        return finding.clause
    text = CATEGORY_TEXT.get(finding.category)
    return f"Guideline {text.clause}: “{text.quote}”" if text else finding.category


def suggested_action(finding: Finding) -> str:
    """What to do: a policy's own sentence as written; terse action words in words plus the usual next step."""
    action = " ".join(finding.action.split())
    words = [w.strip().lower() for w in action.split(",") if w.strip()]
    if not words:
        return "Review the item."
    if any(w not in ACTION_TEXT for w in words):
        return action[0].upper() + action[1:] + ("" if action.endswith((".", "!", "?")) else ".")
    parts = [ACTION_TEXT[w] for w in words]
    head = " and ".join([parts[0], *(p[0].lower() + p[1:] for p in parts[1:])])
    text = CATEGORY_TEXT.get(finding.category)
    step = text.next_step if text else ""
    return f"{head}. {step}" if step and not any(w in step.lower() for w in words) else f"{head}."
