"""Is this story the same story another outlet already ran? Pure text comparison.

Outlets re-run an interview with their own headline and a lightly edited summary, so an
exact match is too strict; word-set overlap (Jaccard) of the title and summary catches the
re-runs while two genuinely different stories about one film share far fewer words.
"""

from __future__ import annotations

from bot.names import fold

_STOP = frozenset(
    "a an and are as at be been but by for from has have he her his in into is it its of on "
    "or our she that the their them they this to was were will with who what when where which "
    "than then there about after over says said new".split()
)

TEXT_THRESHOLD = 0.5
TITLE_THRESHOLD = 0.75


def words(text: str) -> frozenset[str]:
    # The same folding as film-name lookup ("&" becomes "and", a stop word here).
    return frozenset(w for w in fold(text).split() if w not in _STOP)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def same_story(
    title_a: frozenset[str], text_a: frozenset[str], title_b: frozenset[str], text_b: frozenset[str]
) -> bool:
    """``title_*`` are the title's words, ``text_*`` the title's and summary's words."""
    return jaccard(text_a, text_b) >= TEXT_THRESHOLD or (
        len(title_a) >= 4 and jaccard(title_a, title_b) >= TITLE_THRESHOLD
    )
