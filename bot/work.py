"""The CPU-heavy part of a poll — parsing a feed and classifying its entries — as one
picklable function, so it runs in a worker process and never blocks the event loop."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.types import Entry, FilmRef, ParsedFeed, Signal

if TYPE_CHECKING:
    from bot.classify import Classifier

# One classifier per worker process, rebuilt only when the watched films change.
_classifier: tuple[tuple[FilmRef, ...], Classifier] | None = None

#: One story as the store inserts it: (key, link, title, summary, outlet, published,
#: content_hash, signals as JSON text or None). Plain tuples, not Entry objects: they pickle
#: back from the worker several times faster (no dataclass __setstate__ per entry), and the
#: main process, which also fetches and writes, gets them ready to bind.
StoryRow = tuple[str, str | None, str, str, str, datetime | None, str, str | None]


@dataclass(frozen=True, slots=True)
class PreparedFeed:
    """A parsed and classified feed, ready for :func:`bot.record.record_batch`."""

    title: str | None
    error: str | None
    stories: tuple[StoryRow, ...] = ()


def exit_with_parent(parent_pid: int, period: float = 1.0) -> None:
    """Pool initializer: end this worker when the poller that started it is gone. A worker
    of a SIGKILLed poller would otherwise wait on its call queue for ever, and keep the
    forkserver and resource tracker alive with it."""

    def watch() -> None:
        while True:
            time.sleep(period)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # the pid now belongs to someone else's process
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def classifier_for(films: tuple[FilmRef, ...]) -> Classifier:
    # Imported here, in the worker that runs it: the poller process only passes these
    # functions by name and would otherwise carry the parser and classifier (~7 MB) too.
    from bot.classify import Classifier

    global _classifier
    if _classifier is None or _classifier[0] != films:
        _classifier = (films, Classifier(films))
    return _classifier[1]


def parse_and_classify(
    body: bytes, url: str, outlet: str | None, films: tuple[FilmRef, ...]
) -> tuple[ParsedFeed, tuple[tuple[Signal, ...], ...]]:
    from bot.parse import parse_feed

    parsed = parse_feed(body, url, outlet)
    if parsed.error is not None or not films:
        return parsed, ()
    classifier = classifier_for(films)
    signals = tuple(
        tuple(classifier.classify(e.title, e.summary, e.published)) for e in parsed.entries
    )
    return parsed, signals


def parse_for_store(
    body: bytes, url: str, outlet: str | None, films: tuple[FilmRef, ...]
) -> PreparedFeed:
    """:func:`parse_and_classify`, then everything per story the store needs that does not
    depend on the database (content hash, signals as JSON, one row per distinct key), so
    the poller's process only binds and writes."""
    parsed, signals = parse_and_classify(body, url, outlet, films)
    if parsed.error is not None:
        return PreparedFeed(parsed.title, parsed.error)
    return PreparedFeed(parsed.title, None, story_rows(parsed.entries, signals))


def content_hash(entry: Entry) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in (entry.title, entry.summary, entry.link or ""):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def signals_json(signals: Sequence[Signal]) -> list[list[object]]:
    return [[sig.film, sig.status, sig.evidence, sig.confidence] for sig in signals]


def story_rows(
    entries: Sequence[Entry], signals: Sequence[Sequence[Signal]]
) -> tuple[StoryRow, ...]:
    """One row per distinct entry key (the first entry with a key wins, as it always has);
    ``signals[i]`` belongs to ``entries[i]``."""
    rows: list[StoryRow] = []
    seen: set[str] = set()
    for i, e in enumerate(entries):
        if e.key in seen:
            continue
        seen.add(e.key)
        sig = signals[i] if i < len(signals) else ()
        rows.append(
            (
                e.key,
                e.link,
                e.title,
                e.summary,
                e.outlet,
                e.published,
                content_hash(e),
                json.dumps(signals_json(sig)) if sig else None,
            )
        )
    return tuple(rows)
