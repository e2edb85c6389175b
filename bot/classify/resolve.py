"""From cues to one status per film: what each cue means, and how a story's cues combine."""

from __future__ import annotations

from dataclasses import dataclass

from bot.classify.cues import Cue
from bot.types import STAGES

STAGE_RANK = {s: i for i, s in enumerate(STAGES)}
_BELOW = {s: STAGES[i - 1] for i, s in enumerate(STAGES) if i > 0}
# Stages whose hedged mention is talk about the film being made, i.e. a rumour. A hedged
# release, wrap or cancellation of an existing film is no stage at all.
_TALK_STAGES = frozenset({"rumored", "in_development", "greenlit", "pre_production", "filming"})

# What a reading is worth before position and film-match certainty are taken into account.
BASE_CONFIDENCE = {
    "asserted": 0.9,
    "revival": 0.85,
    "derived": 0.75,
    "talk": 0.65,
    "hedged": 0.55,
    "wish": 0.5,
}


@dataclass(frozen=True, slots=True)
class Reading:
    status: str
    kind: str  # asserted | derived | revival | talk | hedged | wish
    confidence: float
    sentence: int
    retro: bool = False


def interpret(cue: Cue) -> tuple[str, str] | None:
    """(status, kind) that one cue supports, or None. The resolution table lives here."""
    label = cue.label
    if label in {"delay"}:
        return None  # a new date moves no stage
    if label in {"cancelled", "cancelled_neg"}:
        # Negated ("not dead"), hedged ("could be axed") or nearly ("almost scrapped") is not
        # a cancellation. A cancellation told in the past still stands (no stage supersedes
        # it); resolve() lets a revival or later progress override it.
        if cue.negated or cue.hedged or cue.near:
            return None
        return "cancelled", "asserted"
    if label == "project":
        # "return", "happen", "do it": only talk when hedged or wished ("would return").
        if cue.negated or cue.retro or not cue.hedged:
            return None
        return "rumored", "wish" if cue.wished else "hedged"
    if label in {"rumored", "report"}:
        if cue.negated or cue.retro:
            return None
        return "rumored", "wish" if cue.wished else "talk"
    if label == "rumored_neg":
        # "not ruling it out", "never say never": the negation is part of the hedge.
        return None if cue.retro else ("rumored", "talk")
    if cue.retro:
        return None  # old news: "the script, written back in 2019"
    status = {
        "revival": "in_development",
        "pause": "filming",
        "greenlit_date": "greenlit",
        "post_state": "post_production",
    }.get(label, label)
    if cue.negated:
        # "not (officially/yet) greenlit" presupposes a project waiting for approval: that is
        # development. "isn't filming yet" leaves anything from development to preparation
        # open, so it yields nothing; so does "no shoot scheduled" (a date, not an approval).
        if label == "greenlit":
            return "in_development", "derived"
        return None
    if cue.hedged:
        if status in _TALK_STAGES:
            return "rumored", "wish" if cue.wished else "hedged"
        return None
    if cue.near:
        if label == "post_state":
            # "a near-complete film" is a film in post, not one nearly shot.
            return status, "derived"
        below = _BELOW.get(status)
        return (below, "derived") if below else None
    if cue.planned:
        if status == "filming":
            return "pre_production", "derived"  # a firm shooting date is preparation
        if status == "greenlit":
            return "in_development", "derived"
        if status in {"released", "post_production"}:
            return None  # "opens in July", "before it hits theaters"
    if label == "revival":
        return status, "revival"
    return status, "asserted"


def resolve(readings: list[Reading]) -> Reading | None:
    """Pick the film's status from all its readings.

    1. An asserted cancellation wins, unless the story revives the film, or the cancellation
       is told in retrospect and the story asserts progress since.
    2. Otherwise the most advanced stage among asserted and derived readings.
    3. Otherwise, if there was only talk, hedges or wishes: rumored.
    """
    if not readings:
        return None
    revived = any(r.kind == "revival" for r in readings)
    forward = [
        r
        for r in readings
        if r.status != "cancelled" and r.kind in {"asserted", "derived", "revival"}
    ]
    cancels = [r for r in readings if r.status == "cancelled"]
    if cancels and not revived:
        current = [r for r in cancels if not r.retro]
        if current or not forward:
            return _best(cancels, readings)
    if forward:
        top = max(STAGE_RANK[r.status] for r in forward)
        return _best([r for r in forward if STAGE_RANK[r.status] == top], readings)
    soft = [r for r in readings if r.status == "rumored"]
    return _best(soft, readings) if soft else None


def _best(candidates: list[Reading], readings: list[Reading]) -> Reading:
    best = max(candidates, key=lambda r: (r.confidence, -r.sentence))
    # Independent sentences agreeing make the finding firmer.
    support = len({r.sentence for r in readings if r.status == best.status}) - 1
    confidence = min(0.99, best.confidence + 0.04 * min(support, 2))
    return Reading(best.status, best.kind, round(confidence, 3), best.sentence, best.retro)
