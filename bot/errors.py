"""Errors a user can act on. Their message is shown to the user as it is."""

from __future__ import annotations


class GreenlightError(Exception):
    """Base: ``str(err)`` is a short, specific message that says what is wrong and what to do."""


class UnknownFilm(GreenlightError):
    def __init__(self, query: str, suggestions: list[str] | None = None) -> None:
        self.query = query
        self.suggestions = suggestions or []
        hint = (
            f" Did you mean {', '.join(repr(s) for s in self.suggestions)}?"
            if self.suggestions
            else ""
        )
        super().__init__(
            f"No watched film matches {query!r}.{hint} "
            "`/watch list` shows the films this server watches."
        )


class UnknownFeed(GreenlightError):
    pass


class AlreadyExists(GreenlightError):
    pass


class InvalidInput(GreenlightError):
    pass


class FeedRejected(GreenlightError):
    """``/feeds add`` fetched the URL and it is not a working feed."""


class NotAllowed(GreenlightError):
    pass
