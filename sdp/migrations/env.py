"""Alembic's environment: applies the revisions in `versions/` to the warehouse it is handed.

Each revision runs in a transaction of its own (PostgreSQL's DDL is transactional), so one that
fails leaves the schema at the revision before it. A session advisory lock makes concurrent
`sdp migrate` / `sdp up` runs take turns: the second finds the work done.
"""

from alembic import context

from sdp.migrations import VERSION_TABLE

MIGRATION_LOCK = "select pg_advisory_lock(hashtextextended('sdp.migrations', 0))"

connection = context.config.attributes["connection"]
connection.exec_driver_sql(MIGRATION_LOCK)
connection.commit()
context.configure(
    connection=connection, transaction_per_migration=True, version_table=VERSION_TABLE
)
with context.begin_transaction():
    context.run_migrations()
