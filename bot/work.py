"""The CPU-heavy part of a poll — parsing a feed and classifying its entries — as one
picklable function, so it runs in a worker process and never blocks the event loop."""

from __future__ import annotations

from bot.classify import Classifier
from bot.parse import parse_feed
from bot.types import FilmRef, ParsedFeed, Signal

# One classifier per worker process, rebuilt only when the watched films change.
_classifier: tuple[tuple[FilmRef, ...], Classifier] | None = None


def classifier_for(films: tuple[FilmRef, ...]) -> Classifier:
    global _classifier
    if _classifier is None or _classifier[0] != films:
        _classifier = (films, Classifier(films))
    return _classifier[1]


def parse_and_classify(
    body: bytes, url: str, outlet: str | None, films: tuple[FilmRef, ...]
) -> tuple[ParsedFeed, tuple[tuple[Signal, ...], ...]]:
    parsed = parse_feed(body, url, outlet)
    if parsed.error is not None or not films:
        return parsed, ()
    classifier = classifier_for(films)
    signals = tuple(
        tuple(classifier.classify(e.title, e.summary, e.published)) for e in parsed.entries
    )
    return parsed, signals
