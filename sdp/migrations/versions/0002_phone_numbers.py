"""Phone numbers: every distinct raw phone value the feeds carried, normalized by libphonenumber.

One row per home country and raw value (as the feed wrote it, trimmed), so that a changed
operator profile never reads another country's answers. dbt staging joins it (the dbt source
`reference.phone_numbers`); `sdp.numbering` fills it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
create schema if not exists reference;
create table reference.phone_numbers (
    home_country text not null,
    raw_value text not null,
    e164 text,
    region text,
    number_type text,
    is_valid boolean not null,
    issue text,
    library_version text not null,
    normalized_at timestamptz not null default now(),
    primary key (home_country, raw_value),
    -- a value that is not a number says why
    check (e164 is not null or issue is not null)
);
comment on table reference.phone_numbers is
    'each distinct raw phone value of the feeds, per home country: E.164, the number''s region '
    'and type, whether libphonenumber knows its range, and why not when it cannot be one';
"""
    )


def downgrade() -> None:
    op.execute("drop schema if exists reference cascade")
