"""Votes (表决) are data: counts checked, and the meeting's rule decides the branch.

A ``duban:vote`` on a user task adds five whole-number fields to its form —
``<name>_eligible`` (应到), ``<name>_present`` (实到), ``<name>_for`` (赞成),
``<name>_against`` (反对), ``<name>_abstain`` (弃权) — and on completion:

- checks that the numbers add up (present ≤ eligible, for + against + abstain
  = present), else a ``ValidationError`` naming the fields;
- computes ``<name>_quorate``: present ≥ quorum × eligible (or > with a
  quorum written ``>1/2``, as party meetings require 到会超过半数);
- computes ``<name>_passed``: quorate, and for > threshold × base, where the
  base is those present (``majority="present"``, 到会人员过半数) or all
  eligible (``majority="eligible"``, 应到人员过半数).

Gateways then branch on ``<name>_passed``; a failed vote is an outcome, not an
error.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from engine.errors import ValidationError

PARTS = ("eligible", "present", "for", "against", "abstain")
LABELS = {"eligible": "应到人数", "present": "实到人数", "for": "赞成", "against": "反对",
          "abstain": "弃权"}


def form_fields(rule: dict[str, Any]) -> list[dict[str, Any]]:
    name, title = rule["name"], rule.get("label") or "表决"
    return [{"name": f"{name}_{part}", "label": f"{title}：{LABELS[part]}", "type": "integer",
             "required": True, "readonly": False, "min": 0} for part in PARTS]


def decide(rule: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Check a vote's counts and return the computed outcome fields.

    :raise ValidationError: the counts do not add up.
    """
    name = rule["name"]
    n = {part: int(data[f"{name}_{part}"]) for part in PARTS}
    bad: dict[str, str] = {}
    if n["eligible"] < 1:
        bad[f"{name}_eligible"] = "at least one person must be entitled to vote"
    if n["present"] > n["eligible"]:
        bad[f"{name}_present"] = f"cannot exceed the {n['eligible']} entitled to vote"
    if n["for"] + n["against"] + n["abstain"] != n["present"]:
        bad[f"{name}_for"] = (f"for + against + abstain is "
                              f"{n['for'] + n['against'] + n['abstain']}, "
                              f"but {n['present']} were present")
    if bad:
        raise ValidationError(bad)
    quorum_text = str(rule.get("quorum", "1/2"))
    strict = quorum_text.startswith(">")
    quorum = Fraction(quorum_text.lstrip(">"))
    threshold = Fraction(rule.get("threshold", "1/2"))
    base = n["present"] if rule.get("majority", "present") == "present" else n["eligible"]
    # 到会超过半数 (party meetings) is strictly more; 三分之二以上 (村民代表会议) includes it
    quorate = (n["present"] > quorum * n["eligible"]) if strict \
        else (n["present"] >= quorum * n["eligible"])
    passed = quorate and n["for"] > threshold * base
    return {f"{name}_quorate": quorate, f"{name}_passed": passed}


def parse_fraction(text: str | None, what: str, problems: list[str]) -> str | None:
    """A fraction like ``2/3``; ``>1/2`` (quorum only) means strictly more than."""
    if text is None:
        return None
    strict = text.startswith(">")
    try:
        value = Fraction(text[1:] if strict else text)
    except (ValueError, ZeroDivisionError):
        problems.append(f"{what} must be a fraction like 2/3, not {text!r}")
        return None
    if not 0 < value <= 1:
        problems.append(f"{what} must be more than 0 and at most 1, not {text!r}")
        return None
    return (">" if strict else "") + str(value)
