"""Zingg's whole answer and its doubtful pairs: links below the acceptance floor are kept.

`customer_links` held only the links the acceptance floor let through, so a link just under it
was lost to the reviewers who should decide it. It now holds every pair Zingg put in one
cluster with `accepted` (the floor's decision, which golden customers follow); both Zingg
tables mark `doubtful` what scored within the model's review margin of the floor
(`platform.reviewMargin` in `zingg_configs/<model>.json`), which dbt lists in
`reconciliation.review_queue`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
alter table reconciliation.customer_links
    add column accepted boolean not null default true,
    add column doubtful boolean not null default false;
alter table reconciliation.customer_matches
    add column doubtful boolean not null default false;
comment on column reconciliation.customer_links.accepted is
    'the score reached the acceptance floor: the golden customer holds this account';
comment on column reconciliation.customer_links.doubtful is
    'the score lies within the review margin of the acceptance floor: a reviewer should decide';
comment on column reconciliation.customer_matches.doubtful is
    'the best score lies within the review margin of the acceptance floor: a reviewer should decide';
"""
    )


def downgrade() -> None:
    op.execute(
        """
delete from reconciliation.customer_links where not accepted;
alter table reconciliation.customer_links drop column accepted, drop column doubtful;
alter table reconciliation.customer_matches drop column doubtful;
"""
    )
