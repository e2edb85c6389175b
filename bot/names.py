"""Folding film names for lookup: case, accents, apostrophes, ``&``/``and`` and punctuation
do not matter when a member types a film's name."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


# Typographic punctuation, to what folding would make of it anyway ("’" is an apostrophe,
# dropped like "'"; the rest end up as a word break). English news text is ASCII but for
# these, and mapping them first lets it skip the decomposition below.
_TYPOGRAPHY = str.maketrans(
    {"’": "'", "‘": " ", "“": " ", "”": " ", "–": " ", "—": " ", "…": " ", "\u00a0": " "}
)


def fold(text: str) -> str:
    plain = text.casefold()
    if not plain.isascii():
        plain = plain.translate(_TYPOGRAPHY)
    if not plain.isascii():  # decomposition is the identity on ASCII, and costly per story
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", plain) if not unicodedata.combining(c)
        )
    plain = plain.replace("’", "'").replace("'", "").replace("&", " and ")
    return _NON_WORD.sub(" ", plain).strip()


def slug(text: str) -> str:
    return fold(text).replace(" ", "-")[:64].strip("-") or "film"
