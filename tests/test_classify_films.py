"""Film matching: names, normalisation, sequels vs originals, ambiguity, several films."""

from __future__ import annotations

import pytest

from bot.classify import Classifier
from bot.types import FilmRef

FILMS = [
    FilmRef(
        "romy2",
        "Romy and Michele 2",
        ("Romy and Michele sequel",),
        ("Romy and Michele's High School Reunion", "Romy and Michele"),
    ),
    FilmRef("twisters", "Twisters", (), ("Twister",)),
    FilmRef("gladiator2", "Gladiator II", (), ("Gladiator",)),
    FilmRef("amelie2", "Amélie 2", (), ("Amélie",)),
    FilmRef("fast", "Fast & Furious 11", (), ()),
    FilmRef("sinners", "Sinners", (), ()),
    FilmRef("ko3", "Wake Up Dead Man", ("Knives Out 3",), ("Knives Out", "Glass Onion")),
    FilmRef("prada2", "The Devil Wears Prada 2", (), ("The Devil Wears Prada",)),
]


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(FILMS)


def films_of(clf: Classifier, title: str, summary: str = "") -> list[str]:
    return [s.film for s in clf.classify(title, summary)]


@pytest.mark.parametrize(
    "title",
    [
        "Twisters begins filming in Oklahoma",
        "TWISTERS BEGINS FILMING IN OKLAHOMA",
        "Twisters' cast begins filming in Oklahoma",
    ],
)
def test_alias_matches_whole_word_any_case(clf: Classifier, title: str) -> None:
    assert films_of(clf, title) == ["twisters"]


@pytest.mark.parametrize(
    "title",
    [
        "A twister's tale: the studio is filming storm chasers",  # possessive of another word
        "Twistersaurus begins filming in Oklahoma",  # no word boundary
        "Twister begins filming a 4K restoration",  # the original, not the sequel
    ],
)
def test_word_boundaries_and_possessives_of_other_words(clf: Classifier, title: str) -> None:
    assert films_of(clf, title) == []


@pytest.mark.parametrize(
    "title",
    [
        "Romy and Michele’s High School Reunion sequel is now filming",
        "Romy and Michele's High School Reunion sequel is now filming",
        "Romy and Micheles High School Reunion sequel is now filming",
        "Romy & Michele sequel is now filming",
        "ROMY AND MICHELE SEQUEL IS NOW FILMING",
    ],
)
def test_apostrophes_ampersand_case_normalised(clf: Classifier, title: str) -> None:
    assert films_of(clf, title) == ["romy2"]


@pytest.mark.parametrize("title", ["Amélie 2 starts filming in Paris", "Amelie 2 starts filming"])
def test_diacritics_normalised(clf: Classifier, title: str) -> None:
    assert films_of(clf, title) == ["amelie2"]


@pytest.mark.parametrize(
    "title", ["Fast and Furious 11 begins filming", "Fast & Furious 11 begins filming"]
)
def test_ampersand_in_name(clf: Classifier, title: str) -> None:
    assert films_of(clf, title) == ["fast"]


@pytest.mark.parametrize(
    "title,summary",
    [
        (
            "Where to stream Romy and Michele's High School Reunion",
            "The 1997 comedy is now streaming on Hulu.",
        ),
        (
            "Romy and Michele's High School Reunion soundtrack gets vinyl reissue",
            "The film's songs return on pink vinyl.",
        ),
        (
            "Romy and Michele's High School Reunion turns 25",
            "The film opened in theaters in April 1997.",
        ),
        ("Gladiator is back in theaters for one night", "Paramount re-releases the original."),
        (
            "The original Twister is now streaming",
            "Ahead of the new film, the 1996 movie joins Max.",
        ),
    ],
)
def test_original_alone_is_not_the_sequel(clf: Classifier, title: str, summary: str) -> None:
    assert films_of(clf, title, summary) == []


@pytest.mark.parametrize(
    "title",
    [
        "A Romy and Michele's High School Reunion sequel is in development",
        "Disney is developing a sequel to Romy and Michele's High School Reunion",
        "Ridley Scott is developing a Gladiator sequel",
        "Paramount developing a new Gladiator movie",
        "Universal eyes a follow-up to Twister, script in the works",
    ],
)
def test_original_with_sequel_marker_is_the_sequel(clf: Classifier, title: str) -> None:
    assert len(films_of(clf, title)) == 1
    assert films_of(clf, title)[0] in {"romy2", "gladiator2", "twisters"}


@pytest.mark.parametrize(
    "title",
    [
        "Gladiator 3 begins filming next year",
        "No Twisters 2 planned, though it's filming somewhere",
    ],
)
def test_other_numbered_film_is_not_ours(clf: Classifier, title: str) -> None:
    assert films_of(clf, title) == []


@pytest.mark.parametrize(
    "title,summary",
    [
        ("Saints and sinners: our favourite recipes", "Sticky ribs for a long weekend."),
        ("Sinners Anonymous announce a reunion tour", "The band hits 30 cities."),
        ("Sinners of the transfer window", "Which clubs spent the most this summer?"),
        ("Wake up, dead man: the month's best metal albums", "Twelve records worth your time."),
    ],
)
def test_ambiguous_alias_without_film_context_is_ignored(
    clf: Classifier, title: str, summary: str
) -> None:
    assert films_of(clf, title, summary) == []


@pytest.mark.parametrize(
    "title,summary",
    [
        ("Sinners begins filming in New Orleans", "Ryan Coogler directs Michael B. Jordan."),
        ("Ryan Coogler's Sinners is now playing in theaters", ""),
        ("Wake Up Dead Man wraps filming", "Rian Johnson's mystery heads into the edit."),
    ],
)
def test_ambiguous_alias_with_film_context_counts(
    clf: Classifier, title: str, summary: str
) -> None:
    assert len(films_of(clf, title, summary)) == 1


def test_single_word_alias_must_be_capitalised_mid_sentence(clf: Classifier) -> None:
    # "sinners" in lower case is the common word, even in a story about film shoots.
    assert films_of(clf, "The film about sinners begins filming in Oklahoma") == []
    assert films_of(clf, "The film Sinners begins filming in Louisiana") == ["sinners"]


def test_article_optional_in_titles(clf: Classifier) -> None:
    assert films_of(clf, "Devil Wears Prada 2 begins filming in New York") == ["prada2"]
    assert films_of(clf, "The Devil Wears Prada 2 begins filming in New York") == ["prada2"]


@pytest.mark.parametrize(
    "title,summary,expected",
    [
        (
            "Twisters wraps filming; Gladiator II begins shooting in Morocco",
            "",
            {"twisters": "post_production", "gladiator2": "filming"},
        ),
        (
            "Studio roundup",
            "Twisters is now playing in theaters. Separately, Gladiator II has been greenlit.",
            {"twisters": "released", "gladiator2": "greenlit"},
        ),
        (
            "Twisters is in theaters while Devil Wears Prada 2 casts its leads",
            "",
            {"twisters": "released", "prada2": "pre_production"},
        ),
    ],
)
def test_two_films_each_get_their_own_signal(
    clf: Classifier, title: str, summary: str, expected: dict[str, str]
) -> None:
    signals = clf.classify(title, summary)
    assert {s.film: s.status for s in signals} == expected
    evidence = {s.film: s.evidence for s in signals}
    if summary:
        assert evidence["twisters"] == "Twisters is now playing in theaters."
        assert evidence["gladiator2"] == "Separately, Gladiator II has been greenlit."


def test_no_films_no_signals() -> None:
    assert Classifier([]).classify("Twisters begins filming", "") == []


def test_rebuild_with_changed_films_is_cheap_and_effective() -> None:
    before = Classifier(FILMS[:1]).classify("Twisters begins filming", "")
    after = Classifier(FILMS).classify("Twisters begins filming", "")
    assert before == [] and [s.film for s in after] == ["twisters"]


@pytest.mark.parametrize(
    "title,expected",
    [
        ("Anne Hathaway dreams of a Devil Wears Prada reunion", ["prada2"]),
        ("Fans want a Devil Wears Prada revival", ["prada2"]),
        # A reunion of the old film's cast at a gala is not a new film.
        ("The Devil Wears Prada cast reunion at the Oscars was a delight", []),
    ],
)
def test_reunion_right_after_an_original_is_the_follow_up(
    clf: Classifier, title: str, expected: list[str]
) -> None:
    assert films_of(clf, title) == expected


@pytest.mark.parametrize(
    "title,expected",
    [
        # The person named by a film does something else: not that film's news.
        ("Sinners star joins new Netflix thriller", []),
        ("Twisters director in talks for a Marvel movie", []),
        ("Gladiator II writer to pen a new Western", []),
        # ...but their news about another watched film is that film's.
        ("Twisters star Glen Powell joins Gladiator II", ["gladiator2"]),
        ("Gladiator II star says filming on Twisters has wrapped", ["twisters"]),
    ],
)
def test_film_naming_a_person_does_not_take_their_news(
    clf: Classifier, title: str, expected: list[str]
) -> None:
    assert films_of(clf, title) == expected


def test_title_without_leading_article_or_with_it() -> None:
    c = Classifier(FILMS)
    for title in (
        "Devil Wears Prada 2 begins filming in New York",
        "The Devil Wears Prada 2 begins filming in New York",
    ):
        assert [(s.film, s.status) for s in c.classify(title, "")] == [("prada2", "filming")]
