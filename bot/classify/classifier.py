"""The Classifier: story in, zero or more film status signals out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.classify.cues import FILM_TOKEN, FOREIGN_TOKEN, Cue, is_retro_frame, read_cues
from bot.classify.films import FilmIndex, Mention, has_film_context, is_headline_case
from bot.classify.resolve import BASE_CONFIDENCE, Reading, interpret, resolve
from bot.classify.text import Sentence, headline_count, story_sentences
from bot.types import FilmRef, Signal

_COORDINATORS = frozenset({"and", "or", "nor", "plus"})
# A title right before one of these names a person by their film ("Sinners star", "Twisters
# director"); what that person does next is their own project, not the film's.
_PERSON_NOUNS = frozenset(
    {
        "star",
        "stars",
        "actor",
        "actress",
        "director",
        "helmer",
        "writer",
        "screenwriter",
        "producer",
        "composer",
        "creator",
        "filmmaker",
        "alum",
        "breakout",
        "co",
    }
)
# Cues that are a person's own doing (being cast, writing, talks, wishes).
_PERSON_CUES = frozenset({"pre_production", "in_development", "rumored", "project", "report"})


class Classifier:
    """Reads one story at a time; build once per set of watched films."""

    def __init__(self, films: Iterable[FilmRef]) -> None:
        self._films = {f.id: f for f in films}
        self._index = FilmIndex(self._films.values())

    def classify(self, title: str, summary: str, published: datetime | None = None) -> list[Signal]:
        sentences = story_sentences(title or "", summary or "")
        if not sentences:
            return []
        n_head = headline_count(title or "")
        context = has_film_context(" ".join(s.text for s in sentences))
        found: list[tuple[Sentence, list[Mention]]] = []
        any_film = False
        for s in sentences:
            headline_case = s.index < n_head and is_headline_case(s.cased)
            mentions = self._index.find(s, context, headline_case)
            any_film = any_film or any(m.films for m in mentions)
            found.append((s, mentions))
        if not any_film:
            return []

        first_seen: dict[str, tuple[int, int]] = {}
        for s, mentions in found:
            for m in mentions:
                for film in m.films:
                    first_seen.setdefault(film, (s.index, m.start))
        primary = min(first_seen, key=first_seen.__getitem__)
        year = published.year if published is not None else None

        story_retro = any(is_retro_frame(s.tokens) for s in sentences[:n_head])
        readings: dict[str, list[Reading]] = {}
        for s, mentions in found:
            tokens, spots = _collapse(s.tokens, mentions)
            cues, clauses = read_cues(tokens, s.question, year, story_retro)
            delayed = any(c.label == "delay" and not c.negated for c in cues)
            position = 1.0 if s.index < n_head else max(0.8, 0.95 - 0.03 * (s.index - n_head))
            for cue in cues:
                if delayed and cue.label == "greenlit_date":
                    continue  # "moved to December 2026" is not a new release slot
                meaning = interpret(cue)
                if meaning is None:
                    continue
                status, kind = meaning
                base = BASE_CONFIDENCE[kind] * position
                if cue.retro and status == "cancelled":
                    base *= 0.8
                for film, certainty in _attribute(cue, tokens, spots, clauses, primary):
                    readings.setdefault(film, []).append(
                        Reading(status, kind, base * certainty, s.index, cue.retro)
                    )

        signals: list[Signal] = []
        for film in sorted(readings, key=lambda f: first_seen.get(f, (99, 0))):
            chosen = resolve(readings[film])
            if chosen is None:
                continue
            signals.append(
                Signal(
                    film=film,
                    status=chosen.status,
                    evidence=sentences[chosen.sentence].raw,
                    confidence=chosen.confidence,
                )
            )
        return signals


def _collapse(
    tokens: list[str], mentions: list[Mention]
) -> tuple[list[str], list[tuple[int, Mention]]]:
    """Replace each mention by one placeholder token so cue patterns never see title words."""
    if not mentions:
        return tokens, []
    out: list[str] = []
    spots: list[tuple[int, Mention]] = []
    i = 0
    for m in mentions:
        out.extend(tokens[i : m.start])
        spots.append((len(out), m))
        out.append(FOREIGN_TOKEN if m.foreign else FILM_TOKEN)
        i = m.end
    out.extend(tokens[i:])
    return out, spots


def _attribute(
    cue: Cue,
    tokens: list[str],
    spots: list[tuple[int, Mention]],
    clauses: list[int],
    primary: str,
) -> list[tuple[str, float]]:
    """Which film(s) a cue is about, with how sure the link is.

    The nearest mention in the cue's clause (else in its sentence) takes it, together with
    mentions coordinated with it ("Gladiator II and Wicked hit theaters"). A sentence without
    any mention continues the story's first film ("The sequel opens Friday"). A cue nearest to
    a foreign film (the original, another numbered film) belongs to that film and is dropped.
    """
    if not spots:
        return [(primary, 0.9)]
    clause = clauses[cue.start]
    pool = [sp for sp in spots if clauses[sp[0]] == clause] or spots
    if cue.label in _PERSON_CUES:
        # "Twisters star Glen Powell joins Top Gun 3": the cast news is Top Gun 3's;
        # "Sinners star joins new thriller": it is nobody's we watch.
        pool = [sp for sp in pool if not _names_a_person(sp[0], tokens)]
        if not pool:
            return []
    nearest = min(pool, key=lambda sp: (abs(sp[0] - cue.start), sp[0] > cue.start))
    group = _coordinated(nearest, spots, tokens)
    out: list[tuple[str, float]] = []
    for _, m in group:
        certainty = 0.9 if m.ambiguous else 0.95 if m.via_original else 1.0
        out.extend((film, certainty) for film in m.films)
    return out


def _coordinated(
    anchor: tuple[int, Mention], spots: list[tuple[int, Mention]], tokens: list[str]
) -> list[tuple[int, Mention]]:
    """Mentions joined to the anchor by a bare coordinator ("X and Y")."""
    ordered = sorted(spots, key=lambda sp: sp[0])
    k = ordered.index(anchor)
    group = [anchor]
    for step in (-1, 1):
        cur = k
        while 0 <= cur + step < len(ordered):
            a, b = ordered[min(cur, cur + step)], ordered[max(cur, cur + step)]
            if b[0] - a[0] != 2 or tokens[a[0] + 1] not in _COORDINATORS:
                break
            cur += step
            group.append(ordered[cur])
    return group


def _names_a_person(pos: int, tokens: list[str]) -> bool:
    return pos + 1 < len(tokens) and tokens[pos + 1] in _PERSON_NOUNS
