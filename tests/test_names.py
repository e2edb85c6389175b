"""Name folding (bot/names.py): its shortcuts for ASCII and typographic punctuation must give
exactly what the plain definition gives, since stored titles and dedupe word sets use it."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.names import fold, slug


def reference_fold(text: str) -> str:
    """The definition, with no shortcuts: casefold, decompose, drop accents, drop
    apostrophes, "&" is "and", anything else that is not a letter or digit is a space."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c)
    )
    plain = plain.replace("’", "'").replace("'", "").replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


TYPOGRAPHY = "’‘“”–—…\u00a0"
texts = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(TYPOGRAPHY + "'&ōéÅ ")))


@settings(max_examples=2000, deadline=None)
@given(texts)
def test_fold_matches_its_definition(text: str) -> None:
    assert fold(text) == reference_fold(text)


def test_fold_examples() -> None:
    assert (fold("Romy & Michele’s “High School” Reunion — 2")
            == "romy and micheles high school reunion 2")
    assert fold("Tōhō…Pokémon\u00a0Détective") == "toho pokemon detective"
    assert fold("It’s ‘Wicked’: For Good") == "its wicked for good"
    assert slug("Romy & Michele’s Reunion") == "romy-and-micheles-reunion"
