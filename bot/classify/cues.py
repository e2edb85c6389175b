"""Reading status cues in one sentence: find each cue, then decide how the sentence holds it.

A cue (``lexicon.CUES``) names an event ("filming", "greenlit"). A reporting-frame cue is
dropped when the sentence has any other cue (the frame then only hedges it). Its *reading*
depends on the words around it, found by position in the same sentence:

* negation before it in its clause (or just after a noun cue: "filming hasn't started"),
  or a denial anywhere before it in the sentence, or a verdict like "premature"; clauses end
  at punctuation, contrast words and subordinators ("until", "unless", "because");
* hedging: a modal or evidential before it in its clause, a reporting frame ("reportedly",
  "sources say", "if") anywhere in the sentence, or a question;
* proximity ("close to", "nearly") just before it;
* plans: a future marker before it ("to", "set for", "prepping for"), a future auxiliary
  inside its own span ("cameras are due to roll"), or a future time after a non-past form
  ("starts shooting in May");
* retrospect: a past anchor in its clause ("back in 2019", "originally", "in 2014" when the
  story is from 2021) or a look-back frame for the sentence ("recalls", "turns 20").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from bot.classify import lexicon as lx
from bot.classify.text import BOUNDARY

FILM_TOKEN = "qfilmq"
FOREIGN_TOKEN = "qorigq"

# One word-boundary test up front lets the scan skip positions inside words at once.
_CUE_RE = re.compile(r"\b(?:" + "|".join(f"(?P<{name}>{src})" for name, src in lx.CUES) + ")")
_NEG_RE = re.compile(lx.NEGATORS)
_DENIAL_RE = re.compile(lx.DENIALS)
_VERDICT_RE = re.compile(lx.DENIAL_VERDICTS)
_HEDGE_RE = re.compile(lx.HEDGES)
_FRAME_RE = re.compile(lx.FRAMES)
_WISH_RE = re.compile(lx.WISHES)
_PROX_RE = re.compile(lx.PROXIMITY)
_PLANNED_RE = re.compile(lx.PLANNED)
_FUTURE_AUX_RE = re.compile(lx.FUTURE_AUX)
_FUTURE_RE = re.compile(lx.FUTURE_TIME)
_PAST_RE = re.compile(lx.PAST_FORM)
_RETRO_RE = re.compile(lx.RETRO_ANCHORS)
_YEAR_RE = re.compile(lx.YEAR_ANCHOR)
_FRAME_RETRO_RE = re.compile(lx.RETRO_FRAMES)
_MONTH_PREPS = frozenset(
    {
        "in",
        "of",
        "a",
        "an",
        "this",
        "next",
        "last",
        "early",
        "late",
        "mid",
        "since",
        "until",
        "by",
        "from",
        "through",
        "on",
        "for",
        "the",
        "'s",
    }
)

# Cues whose pattern already contains their negation ("never be made", "not ruling it out").
_SELF_NEGATING = frozenset({"cancelled_neg", "rumored_neg"})

NEG_WINDOW = 6  # tokens before a cue that a "not" can reach
HEDGE_WINDOW = 8
PROX_WINDOW = 4
PLAN_WINDOW = 4
FUTURE_WINDOW = 8


@dataclass(frozen=True, slots=True)
class Cue:
    """One cue with the modifiers that apply to it."""

    label: str  # a key of lexicon.CUES
    start: int  # token index in the collapsed sentence
    end: int
    negated: bool = False
    hedged: bool = False
    wished: bool = False
    near: bool = False
    planned: bool = False
    retro: bool = False


@dataclass(slots=True)
class _Marks:
    """Token positions of every modifier in a sentence."""

    neg: list[int]
    denial: list[int]
    hedge: list[int]
    wish: list[int]
    prox: list[int]
    planned: list[int]
    future_aux: list[int]
    future: list[int]
    retro: list[int]


def _positions(regex: re.Pattern[str], text: str, starts: list[int]) -> list[int]:
    """Token index where each match *ends*, so "on the verge of" sits right before its cue."""
    return [bisect_right(starts, m.end() - 1) - 1 for m in regex.finditer(text)]


def clause_ids(tokens: list[str]) -> list[int]:
    ids: list[int] = []
    clause = 0
    for tok in tokens:
        if tok == BOUNDARY or tok in lx.CLAUSE_WORDS:
            clause += 1
        ids.append(clause)
    return ids


def is_retro_frame(tokens: list[str]) -> bool:
    """A headline framed as a look back ("Looking back: …", "… turns 20") frames its story."""
    return _FRAME_RETRO_RE.search(" ".join(tokens)) is not None


def read_cues(
    tokens: list[str], question: bool, published_year: int | None, story_retro: bool = False
) -> tuple[list[Cue], list[int]]:
    """All cues of a collapsed sentence with their modifiers; also the clause id per token."""
    text = " ".join(tokens)
    if not text:
        return [], []
    starts: list[int] = []
    pos = 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok) + 1
    found = [(m.lastgroup or "", m.start(), m.end()) for m in _CUE_RE.finditer(text)]
    if len(found) > 1 and any(f[0] == "report" for f in found):
        # The frame's content is read (hedged) through its own cues; the frame adds nothing.
        found = [f for f in found if f[0] != "report"] or found
    clauses = clause_ids(tokens)
    if not found:
        return [], clauses

    hedge = [i for i in _positions(_HEDGE_RE, text, starts) if not _is_month_may(tokens, i)]
    marks = _Marks(
        neg=_positions(_NEG_RE, text, starts),
        denial=_positions(_DENIAL_RE, text, starts),
        hedge=hedge,
        wish=_positions(_WISH_RE, text, starts),
        prox=_positions(_PROX_RE, text, starts),
        planned=_positions(_PLANNED_RE, text, starts),
        future_aux=_positions(_FUTURE_AUX_RE, text, starts),
        future=_positions(_FUTURE_RE, text, starts),
        retro=_positions(_RETRO_RE, text, starts),
    )
    if published_year is not None:
        for m in _YEAR_RE.finditer(text):
            if int(m.group(1)) < published_year:
                marks.retro.append(bisect_right(starts, m.start()) - 1)
    sentence_hedged = question or _FRAME_RE.search(text) is not None
    sentence_denied = _VERDICT_RE.search(text) is not None
    sentence_retro = story_retro or _FRAME_RETRO_RE.search(text) is not None
    retro_clauses = {clauses[k] for k in marks.retro}
    # "The script, written back in 2019, …": an anchor in an appositive dates the bare noun
    # phrase just before it.
    for c in list(retro_clauses):
        head = [k for k, cl in enumerate(clauses) if cl == c - 1 and tokens[k] != BOUNDARY]
        if 0 < len(head) <= 3:
            retro_clauses.add(c - 1)

    cues: list[Cue] = []
    for label, cstart, cend in found:
        i = bisect_right(starts, cstart) - 1
        j = bisect_right(starts, cend - 1)  # exclusive
        clause = clauses[i]
        cue_text = text[cstart:cend]

        def before(marks_at: list[int], window: int, *, i: int = i, clause: int = clause) -> bool:
            return any(i - window <= k < i and clauses[k] == clause for k in marks_at)

        negated = sentence_denied or any(k < i for k in marks.denial)
        if label not in _SELF_NEGATING:
            negated = (
                negated
                or before(marks.neg, NEG_WINDOW)
                or any(i < k < j for k in marks.neg)  # "production will not start"
                or _negated_after(tokens, clauses, j, clause)
            )
        wished = before(marks.wish, HEDGE_WINDOW)
        hedged = (
            sentence_hedged
            or wished
            or before(marks.hedge, HEDGE_WINDOW)
            or any(i < k < j for k in marks.hedge)
            or _modal_after(tokens, clauses, j, clause)
        )
        near = before(marks.prox, PROX_WINDOW)
        retro = sentence_retro or clause in retro_clauses
        # A future auxiliary inside the cue's own span ("cameras are due to roll").
        planned = before(marks.planned, PLAN_WINDOW) or any(i < k < j for k in marks.future_aux)
        if not planned and not _PAST_RE.search(cue_text) and not _aux_before(tokens, i):
            planned = any(j <= k < j + FUTURE_WINDOW and clauses[k] == clause for k in marks.future)
        cues.append(Cue(label, i, j, negated, hedged, wished, near, planned, retro))
    return cues, clauses


def _negated_after(tokens: list[str], clauses: list[int], j: int, clause: int) -> bool:
    """ "filming hasn't started", "cameras will not roll": a negator right after a noun cue."""
    for k in range(j, min(len(tokens), j + 3)):
        if clauses[k] != clause:
            return False
        tok = tokens[k]
        if tok in {"not", "never"} or tok.endswith("n't"):
            return True
    return False


_MODALS = frozenset({"could", "might", "may", "would", "should"})


def _modal_after(tokens: list[str], clauses: list[int], j: int, clause: int) -> bool:
    """ "filming might begin soon": a modal right after a noun cue hedges it."""
    for k in range(j, min(len(tokens), j + 2)):
        if clauses[k] != clause:
            return False
        if tokens[k] in _MODALS and not _is_month_may(tokens, k):
            return True
    return False


def _aux_before(tokens: list[str], i: int) -> bool:
    """The verb before the cue fixes its tense ("is filming", "began shooting")."""
    if i == 0:
        return False
    prev = tokens[i - 1]
    return prev in lx.AUX_BEFORE or _PAST_RE.fullmatch(prev) is not None


def _is_month_may(tokens: list[str], i: int) -> bool:
    if tokens[i] != "may":
        return False
    prev = tokens[i - 1] if i > 0 else ""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    return prev in _MONTH_PREPS or nxt[:1].isdigit() or nxt in {BOUNDARY, "start", "shoot", ""}
