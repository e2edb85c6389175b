"""SQLite serves one poller process: a second one is refused with a clear message.

PostgreSQL pollers share the work through ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite has no
row locks, and one writer at a time would make extra pollers pure contention.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.errors import GreenlightError


class PollerAlreadyRunning(GreenlightError):
    pass


class PollerLock:
    """An advisory lock file beside the SQLite database, held while this process polls."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.path: Path | None = None
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self.path = Path(str(url.database) + ".poller.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        if self.path is None or self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise PollerAlreadyRunning(
                f"another poller (pid {holder}) is already polling {self.path.with_suffix('')}; "
                "SQLite supports one poller process — stop it, or use PostgreSQL "
                '([database] url = "postgresql+asyncpg://…") to run several'
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
