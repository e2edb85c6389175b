"""Finding watched films in a sentence: one combined pass for every name of every film.

Every title, alias and original title of every watched film goes into a single regex built
as a character trie, so a sentence is scanned once however many films are watched. Each hit is
then judged:

* a film's own title or alias is a *direct* mention;
* an original's title (the 1997 film for its sequel) counts for the sequel only when a sequel
  marker sits next to it ("a third Top Gun", "the Beetlejuice sequel", "sequel to Twister");
  otherwise it is a *foreign* mention — a story about the original, which must not leak onto
  the sequel;
* any name directly followed by a sequel numeral that is not part of the name ("Gladiator 3",
  "Twisters 2") names a different film and is foreign too;
* an *ambiguous* name — a single plain word ("Wicked", "Sinners", "Elio") or a multi-word
  title written in lower case ("wake up, dead man") — needs film vocabulary somewhere in the
  story, must be capitalised, and must not be glued to another capitalised word (a person or
  a band: "Elio Germano", "Sinners Anonymous").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.classify.text import BOUNDARY, Sentence, tokenize
from bot.types import FilmRef

_NUMERALS: dict[str, int] = {
    "1": 1,
    "i": 1,
    "one": 1,
    "2": 2,
    "ii": 2,
    "two": 2,
    "3": 3,
    "iii": 3,
    "three": 3,
    "4": 4,
    "iv": 4,
    "four": 4,
    "5": 5,
    "v": 5,
    "five": 5,
    "6": 6,
    "vi": 6,
    "six": 6,
}
_ORDINALS: dict[str, int] = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_NUMERAL_FORMS: dict[int, tuple[str, ...]] = {}
for _word, _n in _NUMERALS.items():
    _NUMERAL_FORMS.setdefault(_n, ())
    _NUMERAL_FORMS[_n] += (_word,)

# Words that, next to an original's title, make it a reference to the follow-up.
_SEQUEL_AFTER = frozenset({"sequel", "sequels", "follow", "followup", "continuation"})
_SEQUEL_BEFORE = frozenset({"sequel", "sequels", "follow", "followup", "another", "new", "next"})
_SEQUEL_BEFORE |= frozenset(_ORDINALS)
_REUNION_AFTER = frozenset({"reunion", "revival", "reboot"})
# Words right before an original's title that pin it to the old film.
_ORIGINAL_PINS = frozenset({"original", "classic", "first", "1st"})
_YEAR_RE = re.compile(r"^(?:19|20)\d\d(?:'s)?$")

_FILM_CONTEXT_RE = re.compile(
    r"\b(?:films?|movies?|sequels?|prequel|studios?|director|directed|directing|filmmakers?|"
    r"cast|casting|script|screenplay|box office|theaters?|theatres?|cinemas?|premieres?|"
    r"premiered|trailer|streaming|streamer|netflix|disney|warner|universal|paramount|pixar|"
    r"dreamworks|legendary|mgm|hulu|peacock|prime video|filming|shooting|photography|"
    r"production|actor|actress|starring|oscars?|hollywood|greenlit|green light|animated|"
    r"blockbuster|franchise|horror|comedy|thriller|musical|adaptation|on set|cameras)\b"
)


@dataclass(frozen=True, slots=True)
class Mention:
    """A film name found in a sentence, at token positions [start, end)."""

    start: int
    end: int
    films: tuple[str, ...]  # watched films this mention is about; empty when foreign
    via_original: bool = False  # reached through an original's title plus a sequel marker
    ambiguous: bool = False

    @property
    def foreign(self) -> bool:
        return not self.films


@dataclass(frozen=True, slots=True)
class _Name:
    film: str
    original: bool  # True: this is the title of an earlier film that ``film`` follows
    ambiguous: bool
    ends_with_numeral: bool


def _name_tokens(name: str) -> list[str]:
    tokens, _ = tokenize(name)
    tokens = [t for t in tokens if t != BOUNDARY]
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]  # "The Batman" is matched as "Batman" so "the"/"a"/none all work
    return tokens


def _numeral_variants(tokens: list[str]) -> list[list[str]]:
    """Spell a numbered title every way: "Gladiator II" is also "Gladiator 2"."""
    variants = [tokens]
    for i, tok in enumerate(tokens):
        n = _NUMERALS.get(tok)
        if n is None or (i == 0 and len(tokens) > 1):
            continue
        for form in _NUMERAL_FORMS[n]:
            if form != tok and not (form in {"i", "v"} and tok not in {"1", "5"}):
                variants.extend([*v[:i], form, *v[i + 1 :]] for v in list(variants))
    return variants


def _key(tokens: Iterable[str]) -> str:
    return " ".join(t.replace("'", "") for t in tokens if t != BOUNDARY)


def _trie_regex(keys: Iterable[list[str]]) -> str:
    """A regex alternation shaped as a trie over characters (one pass, no per-film loop).

    Between words any single clause mark is allowed ("Wicked: For Good"), and apostrophes are
    optional ("Michele's" / "Micheles").
    """
    trie: dict[str, dict] = {}
    for tokens in keys:
        node = trie
        units: list[str] = []
        for i, tok in enumerate(tokens):
            if i:
                units.append(" ")
            units.extend(tok)
        for unit in units:
            node = node.setdefault(unit, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        end = "" in node
        branches = []
        for unit, child in sorted(node.items(), key=lambda kv: kv[0]):
            if unit == "":
                continue
            if unit == " ":
                head = r" (?:\| )?"
            elif unit == "'":
                head = "'?"
            else:
                head = re.escape(unit)
            branches.append(head + emit(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if end:
            return "(?:" + body + ")?"
        return body

    return emit(trie)


class FilmIndex:
    """All names of all watched films, compiled once."""

    def __init__(self, films: Iterable[FilmRef]) -> None:
        self._names: dict[str, list[_Name]] = {}
        self.numbers: dict[str, set[int]] = {}
        patterns: list[list[str]] = []
        for film in films:
            for name in (film.title, *film.aliases):
                self._add(film.id, name, original=False, patterns=patterns)
            for name in film.originals:
                self._add(film.id, name, original=True, patterns=patterns)
        self._regex: re.Pattern[str] | None = None
        if patterns:
            self._regex = re.compile(r"(?<![a-z0-9'])" + _trie_regex(patterns) + r"(?![a-z0-9])")

    def _add(self, film_id: str, name: str, *, original: bool, patterns: list[list[str]]) -> None:
        tokens = _name_tokens(name)
        if not tokens:
            return
        ambiguous = len(tokens) == 1 and tokens[0].isalpha()
        ends_num = tokens[-1] in _NUMERALS
        if not original and ends_num:
            self.numbers.setdefault(film_id, set()).add(_NUMERALS[tokens[-1]])
        for variant in _numeral_variants(tokens):
            entry = _Name(film_id, original, ambiguous, ends_num)
            bucket = self._names.setdefault(_key(variant), [])
            if entry not in bucket:
                bucket.append(entry)
            patterns.append(variant)

    def find(self, sentence: Sentence, film_context: bool, headline_case: bool) -> list[Mention]:
        """Mentions in one sentence, left to right."""
        if self._regex is None:
            return []
        out: list[Mention] = []
        for m in self._regex.finditer(sentence.text):
            start = sentence.token_at(m.start())
            end = sentence.token_at(m.end() - 1) + 1
            # Keyed on the matched text, not whole tokens: "Batgirl's" is a mention of "Batgirl".
            entries = self._names.get(_key(m.group().split(" ")))
            if not entries:
                continue
            mention = self._judge(sentence, start, end, entries, film_context, headline_case)
            if mention is not None:
                out.append(mention)
        return out

    def _judge(
        self,
        sentence: Sentence,
        start: int,
        end: int,
        entries: list[_Name],
        film_context: bool,
        headline_case: bool,
    ) -> Mention | None:
        toks, cased = sentence.tokens, sentence.cased
        nxt = toks[end] if end < len(toks) else ""
        # "Gladiator 3" or "Twisters 2": a numbered film that is not any of ours.
        if nxt in _NUMERALS and nxt not in {"i", "one", "v"}:
            return Mention(start, end + 1, ())
        written = [w for w in cased[start:end] if w.isalnum() or "'" in w]
        single = entries[0].ambiguous
        # A multi-word title with a content word in lower case ("wake up, dead man") is being
        # used as ordinary words unless the story is about films.
        lowered = any(w.isalpha() and len(w) > 3 and w.islower() for w in written[1:])
        ambiguous = single or lowered
        if ambiguous:
            if not film_context:
                return None
            if single and not headline_case:
                if written[0].islower() and not _all_lower(cased):
                    return None
                if _glued_to_name(cased, start, end):
                    return None
        direct = tuple(dict.fromkeys(e.film for e in entries if not e.original))
        if direct:
            return Mention(start, end, direct, ambiguous=ambiguous)
        followers = self._sequel_of(toks, start, end, entries)
        if followers:
            return Mention(start, end, followers, via_original=True, ambiguous=ambiguous)
        return Mention(start, end, ())

    def _sequel_of(
        self, toks: list[str], start: int, end: int, entries: list[_Name]
    ) -> tuple[str, ...]:
        before = toks[max(0, start - 4) : start]
        if before and (before[-1] in _ORIGINAL_PINS or _YEAR_RE.match(before[-1])):
            return ()
        marker_number: int | None = None
        found = False
        for tok in reversed(before):
            if tok == BOUNDARY:
                break
            if tok in _SEQUEL_BEFORE:
                found = True
                marker_number = _ORDINALS.get(tok)
                break
        if not found and end < len(toks) and toks[end] in _REUNION_AFTER:
            # "a Freaky Friday reunion" is a new film; "the Freaky Friday cast reunion" at a
            # gala is not, so only the word right after the title counts.
            found = True
        if not found:
            for tok in toks[end : end + 4]:
                if tok == BOUNDARY:
                    break
                if tok.replace("'", "") in _SEQUEL_AFTER or tok in {"'s"}:
                    found = tok != "'s"
                    if found:
                        break
        if not found:
            return ()
        films = [e.film for e in entries if e.original]
        if marker_number is not None:
            # "a third Top Gun" is not about a watched "Top Gun 2".
            films = [f for f in films if marker_number in self.numbers.get(f, {marker_number})]
        return tuple(dict.fromkeys(films))


def _glued_to_name(cased: list[str], start: int, end: int) -> bool:
    """True when a capitalised word is stuck to the name, making it part of a longer name."""
    if end < len(cased) and cased[end][:1].isupper():
        return True
    if start > 0:
        prev = cased[start - 1]
        if prev[:1].isupper() and not prev.endswith("'s") and start - 1 > 0:
            return True
    return False


def _all_lower(cased: list[str]) -> bool:
    return not any(w[:1].isupper() for w in cased)


def has_film_context(normalised_story: str) -> bool:
    return _FILM_CONTEXT_RE.search(normalised_story) is not None


def is_headline_case(cased: list[str]) -> bool:
    """Title Case headlines ("Pixar's Elio Arrives In Theaters") defeat capitalisation tests."""
    words = [w for w in cased if w.isalpha() and len(w) > 3]
    if len(words) < 3:
        return False
    return sum(w[0].isupper() for w in words) / len(words) >= 0.7
