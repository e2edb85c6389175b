"""English verb inflection for building cue patterns from lemmas.

A word list written by hand drifts: "scrapped" is there but "scraps" is not, "greenlights"
but not "greenlighting". Cue vocabulary that is a verb is therefore written as lemmas (or
phrasal lemmas, "pull the plug") and every form is generated here: base, third person,
-ing, past and past participle, with the regular spelling rules (e-drop, y→ied,
consonant doubling) and a small table of irregulars. Patterns run over normalised tokens
(lower case, hyphens turned into spaces), so "green-lit" arrives as "green lit".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

# Irregular past / participle forms (and the odd spelling the rules would get wrong).
_IRREGULAR: dict[str, tuple[str, ...]] = {
    "begin": ("began", "begun"),
    "bring": ("brought",),
    "build": ("built",),
    "come": ("came",),
    "cut": ("cut",),
    "do": ("did", "done"),
    "eat": ("ate", "eaten"),
    "freeze": ("froze", "frozen"),
    "get": ("got", "gotten"),
    "give": ("gave", "given"),
    "go": ("went", "gone"),
    "greenlight": ("greenlit", "greenlighted"),
    "hit": ("hit",),
    "hold": ("held",),
    "keep": ("kept",),
    "lay": ("laid",),
    "lead": ("led",),
    "light": ("lit", "lighted"),
    "make": ("made",),
    "put": ("put",),
    "rise": ("rose", "risen"),
    "run": ("ran", "run"),
    "see": ("saw", "seen"),
    "set": ("set",),
    "shoot": ("shot",),
    "sink": ("sank", "sunk"),
    "slide": ("slid",),
    "take": ("took", "taken"),
    "win": ("won",),
    "write": ("wrote", "written"),
}
# British and American spellings both occur in feeds.
_DOUBLING_OPTIONAL = frozenset({"cancel", "label", "model", "travel"})
# Two-syllable verbs stressed on the last syllable double like one-syllable ones.
_DOUBLE_ALWAYS = frozenset(
    {
        "begin",
        "commit",
        "admit",
        "submit",
        "permit",
        "regret",
        "forget",
        "occur",
        "refer",
        "prefer",
        "upset",
        "rebut",
        "omit",
    }
)
_VOWELS = "aeiou"


def _doubles(lemma: str) -> bool:
    """Consonant doubling before -ed/-ing: one-syllable words ending consonant-vowel-consonant."""
    if lemma in _DOUBLE_ALWAYS:
        return True
    if len(lemma) < 3 or lemma[-1] in "wxy" or lemma[-1] in _VOWELS:
        return False
    if not (lemma[-2] in _VOWELS and lemma[-3] not in _VOWELS):
        return False
    groups = re.findall(r"[aeiouy]+", lemma)
    return len(groups) == 1


@cache
def forms(lemma: str) -> tuple[str, ...]:
    """All inflected forms of a single-word verb, base first, without duplicates."""
    out = [lemma]
    if lemma.endswith(("s", "sh", "ch", "x", "z")) or (
        lemma.endswith("o") and lemma[-2:-1] not in _VOWELS
    ):
        third = lemma + "es"
    elif lemma.endswith("y") and lemma[-2:-1] not in _VOWELS:
        third = lemma[:-1] + "ies"
    else:
        third = lemma + "s"
    out.append(third)
    if lemma.endswith("ie"):
        stem_ing, stem_ed = lemma[:-2] + "y", lemma[:-1]
    elif lemma.endswith("e") and not lemma.endswith("ee"):
        stem_ing, stem_ed = lemma[:-1], lemma[:-1]
    elif lemma.endswith("y") and lemma[-2:-1] not in _VOWELS:
        stem_ing, stem_ed = lemma, lemma[:-1] + "i"
    elif _doubles(lemma):
        stem_ing = stem_ed = lemma + lemma[-1]
    else:
        stem_ing = stem_ed = lemma
    out.append(stem_ing + "ing")
    if lemma in _IRREGULAR:
        out.extend(_IRREGULAR[lemma])
        if lemma in {"greenlight", "light"}:
            out.append(stem_ed + "ed")
    else:
        out.append(stem_ed + ("d" if stem_ed.endswith("e") else "ed"))
    if lemma in _DOUBLING_OPTIONAL:
        out.extend([lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"])
    return tuple(dict.fromkeys(out))


def _phrase_forms(phrase: str) -> list[str]:
    """Inflect the head of a phrasal lemma: the word marked ``*``, else the first word."""
    words = phrase.split()
    head = next((i for i, w in enumerate(words) if w.endswith("*")), 0)
    words = [w.rstrip("*") for w in words]
    return [" ".join([*words[:head], f, *words[head + 1 :]]) for f in forms(words[head])]


def verbs(*lemmas: str, skip: Iterable[str] = ()) -> str:
    """A regex alternation (no group, no word boundaries) of every form of every lemma.

    ``skip`` drops forms that are mostly nouns in news copy ("eyes", "circles", "pitch").
    Longer forms come first so that at one position the fullest phrase wins.
    """
    skipped = frozenset(skip)
    seen: dict[str, None] = {}
    for lemma in lemmas:
        for f in _phrase_forms(lemma):
            if f not in skipped:
                seen[f] = None
    return "(?:" + _trie(seen) + ")"


def _trie(words: Iterable[str]) -> str:
    """An alternation shaped as a character trie: Python's ``re`` tries alternatives one by
    one, so sharing prefixes keeps a scan with hundreds of forms fast. Quantifiers are greedy,
    so at one position the longest form still wins ("pulls the plug" over "pull")."""
    root: dict[str, dict] = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return emit(root).replace("\\ ", " ")
