"""Deterministic entertainment-news feeds for the benchmark.

Each feed is an RSS 2.0 document of 50 items, about 225 KB, shaped like a real outlet's:
a short HTML ``description``, the full article as HTML in ``content:encoded``, categories,
an author, a media thumbnail, tracking parameters on links and typographic (non-ASCII)
punctuation. A feed at version ``v`` holds its newest 50 items; each new version adds
``NEW_PER_VERSION`` items at the top, so a changed feed has a few new stories and drops a
few old ones, as a real feed does between polls.

About 7 % of the items report a production step of one of the 20 watched films (``FILMS``),
so the classifier, the transition rules, deduplication and the outbox all do real work.
Everything is a pure function of (feed, item sequence number): the server and the baselines
see byte-identical documents in every run.
"""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

ITEMS_PER_FEED = 50
NEW_PER_VERSION = 5
#: Share of items that name a watched film with a status cue.
FILM_SHARE = 0.07
#: The newest item of every feed at version 0 is published shortly before this moment.
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

FILMS: list[dict[str, object]] = [
    {"id": "romy-michele-2", "title": "Romy and Michele 2",
     "aliases": ["Romy and Michele's High School Reunion 2"],
     "originals": ["Romy and Michele's High School Reunion"]},
    {"id": "gladiator-3", "title": "Gladiator III", "aliases": ["Gladiator 3"],
     "originals": ["Gladiator"]},
    {"id": "the-glass-orchard", "title": "The Glass Orchard"},
    {"id": "midnight-harbor", "title": "Midnight Harbor"},
    {"id": "paper-comets", "title": "Paper Comets"},
    {"id": "the-long-winter-road", "title": "The Long Winter Road"},
    {"id": "velvet-static", "title": "Velvet Static"},
    {"id": "saltwater-kings", "title": "Saltwater Kings"},
    {"id": "a-quiet-frontier", "title": "A Quiet Frontier"},
    {"id": "neon-cathedral", "title": "Neon Cathedral"},
    {"id": "the-ninth-lantern", "title": "The Ninth Lantern"},
    {"id": "copper-sky", "title": "Copper Sky"},
    {"id": "beetle-bay-2", "title": "Beetle Bay 2", "originals": ["Beetle Bay"]},
    {"id": "the-amber-room", "title": "The Amber Room"},
    {"id": "harbor-lights-3", "title": "Harbor Lights 3", "originals": ["Harbor Lights"]},
    {"id": "wild-orbit", "title": "Wild Orbit"},
    {"id": "the-last-projectionist", "title": "The Last Projectionist"},
    {"id": "ghosts-of-alder-street", "title": "Ghosts of Alder Street"},
    {"id": "silver-tongue", "title": "Silver Tongue"},
    {"id": "northbound-2", "title": "Northbound 2", "originals": ["Northbound"]},
]

_ACTORS = [
    "Lisa Kudrow", "Mira Sorvino", "Paul Mescal", "Zendaya", "Florence Pugh", "Austin Butler",
    "Pedro Pascal", "Saoirse Ronan", "Dev Patel", "Ayo Edebiri", "Jeremy Allen White",
    "Anya Taylor-Joy", "Glen Powell", "Jenna Ortega", "Colman Domingo", "Greta Lee",
    "Daniel Kaluuya", "Emma Stone", "Jacob Elordi", "Lupita Nyong'o", "Barry Keoghan",
    "Sydney Sweeney", "Timothée Chalamet", "Margot Robbie", "Cillian Murphy",
]
_STUDIOS = [
    "Warner Bros.", "Universal", "Paramount", "Sony Pictures", "Lionsgate", "A24", "Neon",
    "Netflix", "Amazon MGM Studios", "Apple TV+", "Searchlight", "Focus Features", "Legendary",
]
_OTHER_TITLES = [
    "Dune: Part Three", "The Bear", "Severance", "Slow Horses", "Hacks", "Shōgun", "Andor",
    "The White Lotus", "Oppenheimer", "Past Lives", "Anatomy of a Fall", "The Holdovers",
    "Poor Things", "Challengers", "Civil War", "Longlegs", "Twisters", "Conclave", "Anora",
    "The Substance", "Nosferatu", "Companion", "Mickey 17", "Sinners", "Thunderbolts*",
]
_CITIES = ["Atlanta", "Budapest", "Belfast", "Vancouver", "Toronto", "Malta", "Morocco",
           "Sydney", "Prague", "New Mexico", "London", "Cape Town", "Tenerife"]
_OUTLET_WORDS = ["Reel", "Screen", "Marquee", "Frame", "Studio", "Cinema", "Premiere", "Set",
                 "Cut", "Slate", "Lens", "Trailer", "Projector", "Box Office", "Credits"]
_OUTLET_TAILS = ["Daily", "Wire", "Ledger", "Report", "Insider", "Dispatch", "Post", "Beat"]
_SECTIONS = ["film", "tv", "news", "box-office", "awards", "streaming", "casting", "reviews"]

# (headline, lede) templates for ordinary entertainment news: no watched film, no signal.
_GENERIC = [
    ("{actor} joins the cast of {other}",
     "{actor} has boarded {studio}'s {other}, sources confirmed, in a role that is being "
     "kept under wraps."),
    ("Box office: {other} tops the weekend with ${n} million",
     "{other} led the domestic box office with an estimated ${n} million from {m},000 "
     "screens, ahead of holdovers."),
    ("{studio} sets {month} release date for {other}",
     "{studio} has dated {other} for {month} {year}, moving it away from a crowded summer."),
    ("{actor} on awards season, fame and what comes next",
     "In a wide-ranging interview, {actor} talks about the past year, the pressure of the "
     "campaign trail and the projects that got away."),
    ("Watch the first trailer for {other}",
     "The first trailer for {other} is here, and it promises {adj} thrills when it arrives "
     "on {studio} this {season}."),
    ("{other} renewed for season {n2} at {studio}",
     "{studio} has renewed {other} for a season {n2}, with most of the cast expected back."),
    ("Review: {other} is a {adj} ride that never lets up",
     "{actor} anchors {other}, a {adj} picture that is better than it has any right to be."),
    ("{other} at {n2}0: an oral history",
     "Cast and crew look back at the making of {other}, the film nobody wanted to make."),
    ("Where to stream {other} this weekend",
     "{other} is now streaming; here is everything you need to know before you press play."),
    ("{actor} and {actor2} in talks for {studio} thriller",
     "{actor} and {actor2} are in early talks to lead an untitled thriller at {studio}."),
]

# Items about a watched film, each with a status cue the classifier should read.
_FILM_NEWS = [
    ("{film}: sequel talk heats up as {actor} says she would love to return",
     "{actor} told a podcast she would love to make {film}, though nothing is official yet."),
    ("{film} in development at {studio} with a new writer",
     "{studio} is developing {film}; a writer has been hired and a script is being written."),
    ("{studio} officially greenlights {film}",
     "{studio} has officially greenlit {film}, giving the long-gestating project the go-ahead."),
    ("{film} casting begins ahead of a {month} shoot",
     "Casting is under way for {film}, with shooting set to begin in {month} in {city}."),
    ("Cameras roll on {film} in {city}",
     "Principal photography has begun on {film} in {city}, {studio} confirmed on Monday."),
    ("{film} wraps filming",
     "Filming has wrapped on {film}, which now moves into post-production at {studio}."),
    ("{film} is now in theaters",
     "{film} opened in theaters this weekend after a long road to the screen."),
    ("{studio} scraps {film}",
     "{studio} has pulled the plug on {film}, shelving the project after months of delays."),
    ("{actor} says {film} script is 'really good' but not officially greenlit",
     "{actor} says the {film} script is really good and a director is attached, but the "
     "project is not officially greenlit yet."),
]

_FILLER = [
    "The project has been years in the making, and people close to it describe a long road "
    "of rewrites, budget talks and scheduling puzzles.",
    "Representatives for the studio declined to comment beyond the statement, and the talent "
    "agencies involved did not respond to requests for comment by press time.",
    "Industry analysts point out that mid-budget films have struggled to find a theatrical "
    "audience since 2020, though a handful of breakouts have bucked the trend.",
    "Fans have campaigned online for years, trading fan art, petitions and elaborate theories "
    "about where the story could go next.",
    "The director’s last feature premiered at Venice to strong reviews and went on to pick "
    "up several nominations during awards season.",
    "Several crew members from the original are expected to return, including the "
    "cinematographer and the costume designer, according to a person familiar with the plans.",
    "Streaming numbers released last week suggest a sizeable audience is still discovering the "
    "catalogue title, which climbed back into the top ten.",
    "Tax incentives have made the region a favourite location for large productions, and the "
    "local film office says bookings are up for the second year running.",
    "Negotiations reportedly stalled last spring over back-end participation, a sticking "
    "point that has become common in the streaming era.",
    "The writers have said in past interviews that they always imagined a second chapter, "
    "but only if the story felt worth telling.",
]


def feed_count_name(feed: int) -> str:
    rng = random.Random(feed * 7919)
    return f"{rng.choice(_OUTLET_WORDS)} {rng.choice(_OUTLET_TAILS)} {feed}"


def feed_path(feed: int) -> str:
    return f"/feeds/{feed}.xml"


def newest_seq(version: int) -> int:
    """Sequence number of the newest item of a feed at ``version``."""
    return ITEMS_PER_FEED - 1 + NEW_PER_VERSION * version


def published(seq: int) -> datetime:
    """Item ``seq`` is published 20 minutes after item ``seq - 1``; item 49 (the newest at
    version 0) two minutes before T0, so a cold poll at T0 sees recent news."""
    return T0 - timedelta(minutes=2) + timedelta(minutes=20 * (seq - newest_seq(0)))


def _slots(rng: random.Random, film: str | None = None) -> dict[str, object]:
    actors = rng.sample(_ACTORS, 2)
    return dict(
        actor=actors[0], actor2=actors[1], studio=rng.choice(_STUDIOS),
        other=rng.choice(_OTHER_TITLES), city=rng.choice(_CITIES), film=film or "",
        month=rng.choice(["January", "March", "May", "July", "September", "November"]),
        year=rng.choice(["2025", "2026"]), n=rng.randint(9, 160), m=rng.randint(2, 4),
        n2=rng.randint(2, 6), adj=rng.choice(["tense", "giddy", "gorgeous", "messy", "lean"]),
        season=rng.choice(["spring", "summer", "fall", "winter"]),
    )


def item_story(feed: int, seq: int) -> tuple[str, str, str | None]:
    """(title, plain-text lede, watched film id or None) of one item."""
    rng = random.Random(feed * 1_000_003 + seq)
    if rng.random() < FILM_SHARE:
        film = rng.choice(FILMS)
        title_t, lede_t = rng.choice(_FILM_NEWS)
        slots = _slots(rng, str(film["title"]))
        return title_t.format(**slots), lede_t.format(**slots), str(film["id"])
    title_t, lede_t = rng.choice(_GENERIC)
    slots = _slots(rng)
    return title_t.format(**slots), lede_t.format(**slots), None


def _slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text)
    return "-".join(p for p in out.split("-") if p)[:80]


_TAIL_VARIANTS = 512
_HOST = "@HOST@"


@functools.lru_cache(maxsize=_TAIL_VARIANTS)
def _article_tail(variant: int) -> str:
    """The body of an article after its lede, about 4 KB of HTML. Items share a pool of these
    (with the outlet's host substituted) so the server can render 5,000 feeds in seconds."""
    rng = random.Random(variant * 31337)
    host = _HOST
    paras: list[str] = []
    fill = rng.sample(_FILLER, 8)
    paras.append(
        f'<figure class="wp-block-image"><img src="https://cdn.{host}/uploads/2025/02/'
        f'{rng.getrandbits(40):x}.jpg" alt="Still" width="1200" height="675" loading="lazy" '
        f'srcset="https://cdn.{host}/{rng.getrandbits(32):x}-300.jpg 300w, '
        f'https://cdn.{host}/{rng.getrandbits(32):x}-768.jpg 768w" />'
        f"<figcaption>Photo courtesy of the studio &amp; press office</figcaption></figure>"
    )
    for i, text in enumerate(fill):
        if i == 2:
            paras.append(f"<blockquote><p>“{escape(text)}”</p></blockquote>")
        elif i == 4:
            paras.append(
                f'<p>{escape(text)} <a href="https://{host}/tag/{rng.choice(_SECTIONS)}/" '
                f'rel="noopener">More coverage</a>.</p>'
            )
        else:
            paras.append(f"<p>{escape(text)} {escape(rng.choice(_FILLER))}</p>")
    paras.append(f"<p><em>{escape(' '.join(rng.sample(_FILLER, 2)))}</em></p>")
    paras.append(
        "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in rng.sample(_OTHER_TITLES, 4)) + "</ul>"
    )
    paras.append(
        '<div class="related"><h3>Related</h3>'
        + "".join(
            f'<a href="https://{host}/news/{_slug(t)}/">{escape(t)}</a> '
            for t in rng.sample(_OTHER_TITLES, 3)
        )
        + "</div>"
    )
    paras.append(f"<!-- generated {rng.getrandbits(64):x} -->" + "&nbsp;" * 3)
    return "".join(paras)


def _article(rng: random.Random, lede: str, outlet_host: str) -> str:
    """The full article as HTML, about 4 KB: what content:encoded carries in real feeds."""
    tail = _article_tail(rng.randrange(_TAIL_VARIANTS)).replace(_HOST, outlet_host)
    return f"<p><strong>{escape(lede)}</strong></p>{tail}"


def render_item(feed: int, seq: int) -> str:
    rng = random.Random((feed * 1_000_003 + seq) ^ 0x5EED)
    title, lede, _ = item_story(feed, seq)
    host = f"outlet{feed}.example"
    section = rng.choice(_SECTIONS)
    link = (f"https://www.{host}/{section}/{_slug(title)}-{seq}/?utm_source=rss"
            f"&amp;utm_medium=feed&amp;utm_campaign={section}")
    description = (
        f"<p>{escape(lede)}</p><p>{escape(rng.choice(_FILLER))} "
        f'<a href="https://www.{host}/{section}/">Read more</a></p>'
    )
    cats = "".join(f"<category><![CDATA[{c}]]></category>" for c in rng.sample(_SECTIONS, 3))
    return (
        "<item>"
        f"<title>{escape(title)}</title>"
        f"<link>{link}</link>"
        f"<dc:creator><![CDATA[{rng.choice(_ACTORS).split()[0]} Staff]]></dc:creator>"
        f"<pubDate>{format_datetime(published(seq), usegmt=True)}</pubDate>"
        f"{cats}"
        f'<guid isPermaLink="false">https://www.{host}/?p={feed * 100_000 + seq}</guid>'
        f"<description><![CDATA[{description}]]></description>"
        f"<content:encoded><![CDATA[{_article(rng, lede, host)}]]></content:encoded>"
        f'<media:content url="https://cdn.{host}/thumbs/{seq}.jpg" medium="image" '
        f'width="300" height="169" />'
        "</item>\n"
    )


def render_feed(feed: int, version: int) -> bytes:
    """Feed ``feed`` at ``version`` as bytes."""
    top = newest_seq(version)
    host = f"outlet{feed}.example"
    name = feed_count_name(feed)
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:media="http://search.yahoo.com/mrss/">\n<channel>\n'
        f"<title>{escape(name)}</title>\n"
        f'<atom:link href="https://www.{host}/feed/" rel="self" type="application/rss+xml" />\n'
        f"<link>https://www.{host}/</link>\n"
        f"<description>Film and TV news from {escape(name)}</description>\n"
        f"<lastBuildDate>{format_datetime(published(top), usegmt=True)}</lastBuildDate>\n"
        "<language>en-US</language>\n<generator>https://wordpress.org/?v=6.4</generator>\n"
    )
    items = [render_item(feed, seq) for seq in range(top, top - ITEMS_PER_FEED, -1)]
    return (head + "".join(items) + "</channel>\n</rss>\n").encode()


def films_config() -> list[dict[str, object]]:
    return [dict(f) for f in FILMS]
