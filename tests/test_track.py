from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.track import decide, is_backfill
from bot.types import STAGES

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def test_first_signal_alerts() -> None:
    d = decide(None, "rumored", backfill=False)
    assert (d.record, d.advance, d.alert) == (True, True, True)


def test_first_signal_in_backfill_is_recorded_silently() -> None:
    d = decide(None, "filming", backfill=True)
    assert (d.record, d.advance, d.alert, d.note) == (True, True, False, "backfill")


@pytest.mark.parametrize("i", range(len(STAGES) - 1))
def test_every_forward_move_alerts(i: int) -> None:
    for j in range(i + 1, len(STAGES)):
        d = decide(STAGES[i], STAGES[j], backfill=False)
        assert d.alert and d.advance, (STAGES[i], STAGES[j])


@pytest.mark.parametrize("label", [*STAGES, "cancelled"])
def test_same_status_is_not_an_event(label: str) -> None:
    d = decide(label, label, backfill=False)
    assert not d.record and not d.alert and d.note == "same"


def test_backward_move_is_recorded_without_alert() -> None:
    d = decide("filming", "greenlit", backfill=False)
    assert (d.record, d.advance, d.alert, d.note) == (True, False, False, "backward")


@pytest.mark.parametrize("label", STAGES)
def test_cancellation_from_anywhere_alerts(label: str) -> None:
    d = decide(label, "cancelled", backfill=False)
    assert d.alert and d.advance


@pytest.mark.parametrize("label", STAGES)
def test_revival_after_cancellation_alerts(label: str) -> None:
    d = decide("cancelled", label, backfill=False)
    assert d.alert and d.advance


def test_backfill_rule() -> None:
    added = T0
    first_poll = T0 + timedelta(days=2)
    later = T0 + timedelta(days=5)
    kwargs = {"film_added": added, "feed_first_polled": first_poll, "first_seen": later}
    assert is_backfill(T0 - timedelta(hours=1), **kwargs)  # before the film was added
    assert is_backfill(T0 + timedelta(days=1), **kwargs)  # before the feed's first poll
    assert not is_backfill(T0 + timedelta(days=3), **kwargs)
    # Undated: dated by when it was first seen, which is after both.
    assert not is_backfill(None, **kwargs)
    # Undated and seen on the feed's first poll: it was already there, so it is the past.
    assert is_backfill(None, film_added=added, feed_first_polled=first_poll, first_seen=first_poll)
    # Undated, seen before the film was added (a film added later): the past as well.
    assert is_backfill(
        None, film_added=later, feed_first_polled=first_poll, first_seen=T0 + timedelta(days=3)
    )
