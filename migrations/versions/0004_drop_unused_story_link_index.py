"""drop the unused index on stories.link

No query looks a story up by its link; maintaining the index (one insert at a random place in
a B-tree of URLs per stored story) was most of a cold cycle's SQLite write time at scale and
what made it grow faster than the number of stories.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not in batch mode: dropping an index needs no table copy on SQLite.
    op.drop_index("ix_stories_link", table_name="stories")


def downgrade() -> None:
    op.create_index("ix_stories_link", "stories", ["link"], unique=False)
