"""The transition rules of DESIGN.md, as one pure function.

Order: rumored < in_development < greenlit < pre_production < filming < post_production <
released; ``cancelled`` stands apart. The first signal, a move forward, a cancellation and a
revival after a cancellation alert; the same status again and a move backward do not (the
event is still recorded). Backfill — a story published before the film was added or before its
feed was first polled — is recorded silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.types import STAGES

_RANK = {label: n for n, label in enumerate(STAGES)}


@dataclass(frozen=True, slots=True)
class Decision:
    record: bool  # store a status event
    advance: bool  # the film's current status becomes the new one
    alert: bool
    note: str | None  # why there is no alert: "same", "backward", "backfill"


def decide(current: str | None, new: str, *, backfill: bool) -> Decision:
    if current == new:
        return Decision(record=False, advance=False, alert=False, note="same")
    if current is None or new == "cancelled" or current == "cancelled":
        moves = True
    else:
        moves = _RANK[new] > _RANK[current]
    if not moves:
        return Decision(record=True, advance=False, alert=False, note="backward")
    if backfill:
        return Decision(record=True, advance=True, alert=False, note="backfill")
    return Decision(record=True, advance=True, alert=True, note=None)


def is_backfill(
    published: datetime | None,
    *,
    first_seen: datetime,
    film_added: datetime,
    feed_first_polled: datetime | None,
) -> bool:
    """A story counts as news only if it appeared after we started watching both the film and
    the feed. A story with no date is dated by when we first saw it; one first seen on the
    feed's first poll was already there, so it is the past too."""
    first_poll = feed_first_polled or first_seen
    if published is None:
        return first_seen <= first_poll or first_seen < film_added
    return published < film_added or published < first_poll
