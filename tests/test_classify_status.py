"""Status cues and their modifiers, each with several phrasings (many not in the corpus)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.classify import Classifier
from bot.types import LABELS, FilmRef

FILMS = [
    FilmRef(
        "romy2",
        "Romy and Michele 2",
        ("Romy and Michele sequel",),
        ("Romy and Michele's High School Reunion",),
    ),
    FilmRef("hook2", "Hook 2", (), ("Hook",)),
    FilmRef("mermaid2", "Mermaid Lagoon 2", (), ("Mermaid Lagoon",)),
]
F = "Mermaid Lagoon 2"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(FILMS)


def status(clf: Classifier, title: str, summary: str = "", year: int = 2025) -> str | None:
    signals = clf.classify(title, summary, datetime(year, 6, 1, tzinfo=UTC))
    return signals[0].status if signals else None


# --- every label, asserted ------------------------------------------------------------------

ASSERTED = [
    ("rumored", f"Rumours swirl about {F}"),
    ("rumored", f"Fans speculate about {F} after a cryptic post"),
    ("in_development", f"{F} is in development at Universal"),
    ("in_development", f"A writer has been hired for {F}"),
    ("in_development", f"{F} finds its director"),
    ("in_development", f"Jane Doe is penning {F}"),
    ("greenlit", f"Universal greenlights {F}"),
    ("greenlit", f"{F} gets the go-ahead from Netflix"),
    ("greenlit", f"Netflix has officially ordered {F}"),
    ("pre_production", f"Zoe Park cast as the lead in {F}"),
    ("pre_production", f"{F} is casting now"),
    ("pre_production", f"Sets are being built for {F} in Malta"),
    ("filming", f"{F} begins filming in Malta"),
    ("filming", f"Cameras are rolling on {F}"),
    ("filming", f"Principal photography on {F} is underway"),
    ("filming", f"First photos from the {F} set"),
    ("post_production", f"{F} wraps filming"),
    ("post_production", f"{F} is in post-production"),
    ("post_production", f"Director says {F} is being edited"),
    ("released", f"{F} is now playing in theaters"),
    ("released", f"{F} opens to $60 million"),
    ("released", f"{F} is now streaming on Netflix"),
    ("cancelled", f"Universal scraps {F}"),
    ("cancelled", f"{F} has been shelved"),
    ("cancelled", f"Studio pulls the plug on {F}"),
    ("cancelled", f"{F} is dead, producer confirms"),
]


@pytest.mark.parametrize("label,title", ASSERTED)
def test_asserted_cues(clf: Classifier, label: str, title: str) -> None:
    assert status(clf, title) == label


def test_every_label_is_covered() -> None:
    assert {label for label, _ in ASSERTED} == set(LABELS)


# --- negation and its scope -----------------------------------------------------------------


@pytest.mark.parametrize(
    "title,summary,expected",
    [
        (f"{F} is not officially greenlit", "", "in_development"),
        (f"{F} hasn't been greenlit yet", "", "in_development"),
        (f"Still no green light for {F}", "", "in_development"),
        (f"{F} isn't filming yet", "", None),
        (f"{F} has not started filming", "", None),
        (f"Filming on {F} hasn't begun", "", None),
        (f"{F}: cameras will not roll this year", "", None),
        (f"There are no plans for {F}", "", None),
        (f"Studio denies reports that {F} starts shooting in May", "", None),
        (f"Reports that {F} is filming are false, says studio", "", None),
        # Scope ends at the clause: the second clause is asserted.
        (f"{F} isn't greenlit yet, but the script is finished", "", "in_development"),
        (f"{F} is not in theaters yet, but filming has wrapped", "", "post_production"),
    ],
)
def test_negation(clf: Classifier, title: str, summary: str, expected: str | None) -> None:
    assert status(clf, title, summary) == expected


# --- hedging and reported rumour --------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        f"Rumours of {F} shooting in Q2",
        f"{F} could start filming this spring",
        f"{F} might begin shooting in July, sources say",
        f"{F} reportedly greenlit at Universal",
        f"Director in early talks to helm {F}",
        f"{F} may be cast soon, according to a report",
        f"Is {F} filming already?",
        f"{F} is said to be filming in Malta",
        f"If the studio agrees, {F} would start shooting in May",
    ],
)
def test_hedged_stage_is_at_most_rumored(clf: Classifier, title: str) -> None:
    assert status(clf, title) == "rumored"


@pytest.mark.parametrize(
    "title",
    [
        f"{F} could be delayed, analysts say",
        f"{F} might open in theaters early",
        f"{F} could be cancelled, insiders fear",
    ],
)
def test_hedged_release_delay_or_cancellation_is_no_signal(clf: Classifier, title: str) -> None:
    assert status(clf, title) is None


# --- hope and wishes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        f"Star says she'd do {F} in a heartbeat",
        f"Lead actor would love to make {F}",
        f"Jane Doe hopes to return for {F}",
        "Jane Doe wants another Mermaid Lagoon movie",
        f"I would come back for {F} tomorrow, says star",
    ],
)
def test_wishes_are_rumored(clf: Classifier, title: str) -> None:
    assert status(clf, title) == "rumored"


# --- close to -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        f"{F} is so close to being greenlit",
        f"{F} nearly greenlit, says producer",
        f"{F} on the verge of a green light",
        f"{F} edging closer to a greenlight",
        f"{F} almost has the go-ahead",
    ],
)
def test_close_to_greenlit_is_in_development(clf: Classifier, title: str) -> None:
    assert status(clf, title) == "in_development"


# --- retrospective past ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "title,summary",
    [
        ("Mermaid Lagoon turns 20", f"The script for {F}, written back in 2019, never moved."),
        (f"Looking back: how {F} was originally developed", ""),
        (f"The long road of {F}", "The sequel was originally developed at Fox in the 2010s."),
        (f"Star recalls filming {F}", ""),
        (f"{F} began filming in 2021 before stalling", ""),
    ],
)
def test_retrospective_is_not_a_new_signal(clf: Classifier, title: str, summary: str) -> None:
    assert status(clf, title, summary, year=2025) is None


def test_year_anchor_depends_on_publication_date(clf: Classifier) -> None:
    title = f"{F} began filming in March 2024"
    assert status(clf, title, year=2024) == "filming"
    assert status(clf, title, year=2026) is None


# --- delays, plans --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        f"{F} pushed to 2026",
        f"{F} delayed by six months",
        f"Universal moves {F} from May to December",
        f"{F} slides to 2027",
        f"{F} postponed again",
    ],
)
def test_delay_changes_no_stage(clf: Classifier, title: str) -> None:
    assert status(clf, title) is None


@pytest.mark.parametrize(
    "title",
    [
        f"{F} starts shooting in London in May",
        f"{F} to begin filming next spring",
        f"{F} will start production in January",
        f"{F} sets a June start date",
    ],
)
def test_firm_shooting_plan_is_pre_production(clf: Classifier, title: str) -> None:
    assert status(clf, title) == "pre_production"


@pytest.mark.parametrize(
    "title", [f"{F} opens in theaters next summer", f"{F} will hit theaters in December"]
)
def test_future_release_is_not_released(clf: Classifier, title: str) -> None:
    assert status(clf, title) != "released"


# --- cancellation, denial, revival ----------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        f"{F} is not dead, producer insists",
        f"{F} has not been cancelled",
        f"Reports of {F} being scrapped are wrong",
        f"{F} wasn't shelved, studio says",
    ],
)
def test_denied_cancellation_is_not_cancelled(clf: Classifier, title: str) -> None:
    assert status(clf, title) != "cancelled"


@pytest.mark.parametrize(
    "title,summary,expected",
    [
        (f"{F} revived at Netflix", "The sequel was cancelled in 2021.", "in_development"),
        (
            f"{F} is back on",
            "After years on the shelf, a new writer is drafting it.",
            "in_development",
        ),
        (
            f"{F} back from the dead and greenlit",
            "Universal had scrapped it years ago.",
            "greenlit",
        ),
        (f"{F} resurrected, filming this week", "", "filming"),
    ],
)
def test_revival_after_cancellation(
    clf: Classifier, title: str, summary: str, expected: str
) -> None:
    assert status(clf, title, summary) == expected


def test_production_pause_is_still_filming(clf: Classifier) -> None:
    assert status(clf, f"{F} halts production amid strike") == "filming"
    assert status(clf, f"Filming on {F} paused for a week") == "filming"


# --- the motivating case --------------------------------------------------------------------

ROMY_TITLE = "Romy and Michele sequel 'so close' to a green light, stars say"
ROMY_SUMMARY = (
    "Mira Sorvino and Lisa Kudrow, stars of the 1997 comedy Romy and Michele's High School "
    "Reunion, say the script by original writer Robin Schiff is really good and a director "
    "has been hired. It is so close to being greenlit, they said, with shooting rumoured for "
    "Q2. It is not officially greenlit yet."
)


def test_motivating_case(clf: Classifier) -> None:
    signals = clf.classify(ROMY_TITLE, ROMY_SUMMARY, datetime(2025, 1, 14, tzinfo=UTC))
    assert [(s.film, s.status) for s in signals] == [("romy2", "in_development")]
    assert signals[0].evidence in (
        ROMY_TITLE,
        "Mira Sorvino and Lisa Kudrow, stars of the 1997 comedy Romy and Michele's High School "
        "Reunion, say the script by original writer Robin Schiff is really good and a director "
        "has been hired.",
    )


# --- most advanced asserted stage wins; hedged cues never raise it ---------------------------


@pytest.mark.parametrize(
    "title,summary,expected",
    [
        (f"{F} casts its lead", "Filming could begin in June.", "pre_production"),
        (f"{F} wraps", "The script was rewritten on set, the director said.", "post_production"),
        (f"Rumours of {F} release date", "The film is currently shooting in Malta.", "filming"),
        (f"{F} has a script", "Universal might greenlight it next month.", "in_development"),
    ],
)
def test_resolution(clf: Classifier, title: str, summary: str, expected: str) -> None:
    assert status(clf, title, summary) == expected


# --- evidence and confidence ----------------------------------------------------------------


def test_evidence_is_the_sentence_as_written_whitespace_folded(clf: Classifier) -> None:
    summary = f"The cast gathered   for a party.  {F} has\nwrapped   filming in Malta. More soon."
    signal = clf.classify("Studio news", summary)[0]
    assert signal.evidence == f"{F} has wrapped filming in Malta."


def test_confidence_orders_direct_over_hedged_and_title_over_summary(clf: Classifier) -> None:
    def conf(title: str, summary: str = "") -> float:
        return clf.classify(title, summary)[0].confidence

    asserted_title = conf(f"{F} begins filming in Malta")
    asserted_deep = conf("Studio news", f"Other things happened. More things. {F} begins filming.")
    hedged = conf(f"{F} could begin filming in Malta")
    assert 0.0 <= hedged < asserted_deep < asserted_title <= 1.0


def test_at_most_one_signal_per_film(clf: Classifier) -> None:
    signals = clf.classify(f"{F} wraps", f"{F} began filming. {F} is in post-production.")
    assert [s.film for s in signals] == ["mermaid2"]


# --- generality: inflections, phrasal and passive forms (vocabulary built from lemmas) -------

MORPHOLOGY = [
    ("greenlit", f"Universal greenlit {F}"),
    ("greenlit", f"{F} green-lit by Netflix"),
    ("greenlit", f"Netflix green-lights {F}"),
    ("greenlit", f"Sony is greenlighting {F}"),
    ("greenlit", f"{F} given the green light"),
    ("greenlit", f"{F} gets the nod from Paramount"),
    ("greenlit", f"Paramount gave {F} the go-ahead"),
    ("greenlit", f"{F} is a go at Sony"),
    ("greenlit", f"Sony moves forward with {F}"),
    ("greenlit", f"Netflix okays {F}"),
    ("greenlit", f"Warner locks in {F}"),
    ("greenlit", f"Disney commits to {F}"),
    ("in_development", f"{F} in the works at Universal"),
    ("in_development", f"Jane Doe to write {F}"),
    ("in_development", f"Jane Doe tapped to direct {F}"),
    ("in_development", f"Studio hires Jane Doe to pen {F}"),
    ("in_development", f"Jane Doe boards {F} as director"),
    ("in_development", f"The {F} script is being worked on"),
    ("in_development", f"Early story meetings held for {F}"),
    ("pre_production", f"Casting under way for {F}"),
    ("pre_production", f"Jane Doe rounds out the cast of {F}"),
    ("pre_production", f"Location scouting begins for {F}"),
    ("pre_production", f"Crews are constructing sets for {F}"),
    ("pre_production", f"Costume fittings begin for {F}"),
    ("pre_production", f"{F} sets May start date"),
    ("filming", f"{F} shoots in Atlanta this week"),
    ("filming", f"Cameras roll on {F}"),
    ("filming", f"Cameras are now rolling on {F}"),
    ("filming", f"Principal photography has begun on {F}"),
    ("filming", f"Production on {F} kicks off in Budapest"),
    ("filming", f"Production on {F} gets under way"),
    ("filming", f"Stars spotted on location for {F}"),
    ("post_production", f"{F} has wrapped"),
    ("post_production", f"{F} is in the can"),
    ("post_production", f"Filming has officially wrapped on {F}"),
    ("post_production", f"Shooting on {F} has finished"),
    ("post_production", f"Visual effects work continues on {F}"),
    ("post_production", f"Director locks the cut on {F}"),
    ("post_production", f"{F} heads to test screenings"),
    ("post_production", f"{F} is finished and awaiting a date"),
    ("released", f"{F} is now in theaters"),
    ("released", f"{F} lands on Prime Video"),
    ("released", f"{F} debuts on Disney+"),
    ("released", f"{F} logs 40 million views in its first week"),
    ("released", f"{F} holds the top spot for a second weekend"),
    ("cancelled", f"{F} scrapped"),
    ("cancelled", f"Netflix axes {F}"),
    ("cancelled", f"Sony kills {F}"),
    ("cancelled", f"Warner buries {F}"),
    ("cancelled", f"{F} has been abandoned"),
    ("cancelled", f"{F} is dead in the water"),
    ("cancelled", f"{F} put on ice"),
    ("cancelled", f"{F} will never be released, studio says"),
    ("rumored", f"Whispers of a {F} shoot this year"),
    ("rumored", f"Buzz is building around {F}"),
    ("rumored", f"Chatter about {F} grows online"),
    ("rumored", f"Speculation mounts over {F}"),
    ("rumored", f"{F} reportedly in the works"),
    ("rumored", f"Paramount said to be weighing {F}"),
    ("rumored", f"Jane Doe circling {F}"),
    ("rumored", f"Studio exploring {F}"),
    ("rumored", f"Jane Doe floats {F} idea"),
]


@pytest.mark.parametrize("label,title", MORPHOLOGY)
def test_inflected_and_phrasal_forms(clf: Classifier, label: str, title: str) -> None:
    assert status(clf, title) == label


@pytest.mark.parametrize(
    "title,expected",
    [
        (f"No sign of cameras rolling on {F}", None),
        (f"{F} has yet to start shooting", None),
        (f"{F} isn't expected to film until 2027", None),
        (f"{F} won't start shooting before 2027", None),
        (f"Studio denied reports that {F} had begun filming", None),
        (f"Paramount: no {F} cameras this year", None),
        (f"There is no {F} shoot scheduled for 2026, a source said", None),
        (f"Nobody has greenlit {F}", "in_development"),
        (f"{F} hasn't been given the green light yet", "in_development"),
        (f"There are no plans to shelve {F}", None),
    ],
)
def test_negation_scope_over_new_forms(clf: Classifier, title: str, expected: str | None) -> None:
    assert status(clf, title) == expected


@pytest.mark.parametrize(
    "title",
    [
        f"{F} could wrap early, crew members think",
        f"{F} might be cancelled",
        f"Crew members believe shooting on {F} will finish early",
        f"{F} may be shelved if the strike drags on",
    ],
)
def test_hedged_wrap_or_cancellation_is_no_signal(clf: Classifier, title: str) -> None:
    assert status(clf, title) is None


@pytest.mark.parametrize(
    "title",
    [
        f"Jane Doe is game for {F}",
        f"Jane Doe would jump at the chance to do {F}",
        f"Jane Doe is open to {F}",
        f"Jane Doe isn't ruling out {F}",
        f"'Never say never,' Jane Doe says of {F}",
    ],
)
def test_willingness_and_open_doors_are_rumored(clf: Classifier, title: str) -> None:
    assert status(clf, title) == "rumored"


@pytest.mark.parametrize(
    "title,expected",
    [
        # Headline grammar drops the auxiliary: "set for summer shoot" is a shooting plan.
        (f"{F} set for summer shoot", "pre_production"),
        (f"{F} set for spring shoot in London", "pre_production"),
        (f"Cameras are due to roll on {F}", "pre_production"),
        (f"Cameras set to roll on {F} in May", "pre_production"),
        (f"{F} set for December 2026 release", "greenlit"),
    ],
)
def test_headline_grammar_plans(clf: Classifier, title: str, expected: str) -> None:
    assert status(clf, title) == expected


@pytest.mark.parametrize(
    "title,expected",
    [
        # A nearly finished *film* is in post; nearly finished *filming* is still filming.
        (f"Studio shelves {F}, a near-complete film", "cancelled"),
        (f"{F} is a near-complete film, says editor", "post_production"),
        (f"Filming on {F} is nearly wrapped", "filming"),
    ],
)
def test_near_complete_film_is_post_production(clf: Classifier, title: str, expected: str) -> None:
    assert status(clf, title) == expected


def test_report_frame_around_a_denial_is_no_rumour(clf: Classifier) -> None:
    assert status(clf, f"Sources say there is no {F} shoot planned") is None
    assert status(clf, f"Sources say {F} is happening") == "rumored"


@pytest.mark.parametrize(
    "title,expected",
    [
        # Subordinators end a negation's reach.
        (f"{F} will not begin filming until the script is done", "in_development"),
        (f"{F} won't shoot unless the writers finish a new draft", "in_development"),
        # "since 2015" dates the start of a state that still holds.
        (f"{F} has been in development since 2015", "in_development"),
        (f"{F} has been in the works since 2019", "in_development"),
        # Idioms and passives.
        (f"{F} goes before cameras in May", "pre_production"),
        (f"{F} went before the cameras this week", "filming"),
        (f"The plug has been pulled on {F}", "cancelled"),
        (f"Netflix drops {F} from its slate", "cancelled"),
        (f"Netflix drops the {F} trailer", None),
        (f"{F} is a box office bomb", "released"),
        (f"{F} heads into production next month", "pre_production"),
        (f"{F} moves into pre-production", "pre_production"),
        (f"{F} is prepping for a fall shoot", "pre_production"),
        (f"{F} gears up for a January shoot", "pre_production"),
        # Marketing for a film that exists is not a rumour about it.
        (f"{F} trailer teases a darker sequel", None),
        (f"Star teases {F}", "rumored"),
        (f"Fans want {F}. The studio doesn't.", "rumored"),
    ],
)
def test_grammar_of_scope_tense_and_idiom(
    clf: Classifier, title: str, expected: str | None
) -> None:
    assert status(clf, title) == expected
