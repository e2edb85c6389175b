"""Text folding, tokenising and sentence splitting shared by film matching and cue reading.

Everything downstream works on *token lists*: lower-case ASCII words, with clause punctuation
turned into a ``|`` token. Keeping one token list per sentence (and the original-case tokens
beside it) lets the film matcher and the cue reader agree on positions without re-scanning.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field

#: Clause boundary marker in normalised token streams.
BOUNDARY = "|"

_PUNCT_MAP = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": " - ",
        "\u2014": " - ",
        "\u2026": "...",
        "\u00a0": " ",
    }
)

# Numbers keep their thousands separators so "4,000" is not read as a clause break.
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*|[,;:()!?&]|(?<=\s)-(?=\s)")
_CLAUSE_PUNCT = frozenset(",;:()!?-")
_INITIALS_RE = re.compile(r"^(?:[a-z]\.)*[a-z]$")

# Abbreviations whose full stop does not end a sentence ("Mrs. Doubtfire", "Warner Bros. said").
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr bros vs inc co no mt ft gen lt col sgt prof rev u.s u.k".split()
)
_SENTENCE_END_RE = re.compile(r"([.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def fold(text: str) -> str:
    """Unify quotes and dashes and strip diacritics ("Amélie" → "Amelie"), keeping case."""
    text = text.translate(_PUNCT_MAP)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = text.encode("ascii", "ignore").decode("ascii")
    return text


def squash(text: str) -> str:
    """Fold runs of whitespace to single spaces (evidence is quoted this way)."""
    return " ".join(text.split())


def split_sentences(text: str) -> list[str]:
    """Split a summary into sentences, leaving abbreviations and initials ("J.K.") intact."""
    text = squash(text)
    if not text:
        return []
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        if m.group(1) == ".":
            words = text[start : m.start()].rsplit(None, 1)
            last = words[-1].lower() if words else ""
            # An initial ("B." in "Michael B. Jordan") or a known abbreviation.
            if _INITIALS_RE.match(last) or last.rstrip(".") in _ABBREVIATIONS:
                continue
        out.append(text[start : m.end()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


@dataclass(slots=True)
class Sentence:
    """One sentence of a story, tokenised.

    ``tokens`` are normalised (lower case, ``&`` → ``and``, clause punctuation → ``|``);
    ``cased`` holds the same tokens as written, so capitalisation can still be consulted.
    """

    index: int  # 0 is the headline
    raw: str
    tokens: list[str]
    cased: list[str]
    question: bool
    text: str = ""
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.text, self.starts = join_tokens(self.tokens)

    def token_at(self, char_offset: int) -> int:
        """Index of the token that starts at or before ``char_offset`` in ``text``."""
        return bisect_right(self.starts, char_offset) - 1


def join_tokens(tokens: list[str]) -> tuple[str, list[int]]:
    starts: list[int] = []
    pos = 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok) + 1
    return " ".join(tokens), starts


def tokenize(sentence: str) -> tuple[list[str], list[str]]:
    """Return (normalised tokens, tokens as written)."""
    cased: list[str] = []
    norm: list[str] = []
    for tok in _TOKEN_RE.findall(fold(sentence)):
        if tok in _CLAUSE_PUNCT:
            if norm and norm[-1] == BOUNDARY:
                continue
            norm.append(BOUNDARY)
            cased.append(tok)
        elif tok == "&":
            norm.append("and")
            cased.append("and")
        else:
            norm.append(tok.lower().replace(",", ""))
            cased.append(tok)
    return norm, cased


def make_sentence(index: int, raw: str) -> Sentence:
    tokens, cased = tokenize(raw)
    return Sentence(
        index=index,
        raw=squash(raw),
        tokens=tokens,
        cased=cased,
        question=raw.rstrip().rstrip("\"')").endswith("?"),
    )


def story_sentences(title: str, summary: str) -> list[Sentence]:
    """Headline first (split too: headlines may carry a question and an answer), then summary."""
    parts = split_sentences(title) + split_sentences(summary)
    return [make_sentence(i, p) for i, p in enumerate(parts)]


def headline_count(title: str) -> int:
    return len(split_sentences(title))
