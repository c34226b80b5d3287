"""Baseline: every table the platform writes outside dbt.

Schemas `raw` (one table per contract entity, and the bookkeeping `_loads`, `_rejects`,
`_stream_offsets`), `quality`, `reconciliation`, `rca` and `ops`. Until this revision each module
created its own tables before every use; that DDL, run while another step's load held row locks,
deadlocked parallel runs. Every statement says `if not exists`, so a warehouse those modules
built is adopted as it stands.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

RAW_CONTROL = """
create schema if not exists raw;
create table if not exists raw._rejects (
    reject_id bigint generated always as identity primary key,
    batch_id text not null,
    source text not null,
    entity text not null,
    file text not null,
    line bigint,
    column_name text,
    value text,
    rule text not null,
    reason text not null,
    record text,
    rejected_at timestamptz not null default now()
);
create index if not exists _rejects_batch on raw._rejects (batch_id);
comment on table raw._rejects is
    'every landed row that broke the contract, with file, line, column and reason';
create table if not exists raw._loads (
    batch_id text primary key,
    source text not null,
    entity text not null,
    partition_date date not null,
    file text not null,
    format text not null,
    sha256 text not null,
    schema_version int not null,
    landed_at timestamptz not null,
    status text not null check (status in ('loaded', 'rejected')),
    error text,
    rows_in bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    bytes bigint not null,
    seconds double precision not null,
    method text not null,
    extra_columns text[] not null default '{}',
    missing_columns text[] not null default '{}',
    loaded_at timestamptz not null default now()
);
create index if not exists _loads_partition on raw._loads (source, entity, partition_date);
comment on table raw._loads is
    'one row per landed batch: the idempotency key and the load outcome';
create table if not exists raw._stream_offsets (
    topic text not null,
    partition int not null,
    next_offset bigint not null,
    advanced boolean not null default false,
    updated_at timestamptz not null default now(),
    primary key (topic, partition)
);
comment on table raw._stream_offsets is
    'per topic partition, the next offset not yet in raw: moved in the transaction of the rows';
"""

# The contract's entities as of this revision (derived by sdp.migrations.raw_tables, frozen).
RAW_ENTITIES = """
create sequence if not exists "raw"."crm_customers__line";
create table if not exists "raw"."crm_customers" (
    "customer_id" text not null check (btrim("customer_id") <> ''),
    "first_name" text not null check (btrim("first_name") <> ''),
    "last_name" text not null check (btrim("last_name") <> ''),
    "date_of_birth" date,
    "email" text,
    "phone" text,
    "address_line" text,
    "city" text,
    "postcode" text,
    "segment" text not null check (btrim("segment") <> '') check ("segment" in ('consumer', 'business')),
    "created_at" timestamptz not null,
    "updated_at" timestamptz not null,
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.crm_customers__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."crm_customers" is 'crm.customers as landed; key (customer_id) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."crm_subscriptions__line";
create table if not exists "raw"."crm_subscriptions" (
    "subscription_id" text not null check (btrim("subscription_id") <> ''),
    "customer_id" text not null check (btrim("customer_id") <> ''),
    "msisdn" text not null check (btrim("msisdn") <> ''),
    "plan_code" text not null check (btrim("plan_code") <> ''),
    "status" text not null check (btrim("status") <> '') check ("status" in ('active', 'suspended', 'terminated')),
    "start_date" date not null,
    "end_date" date,
    "updated_at" timestamptz not null,
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.crm_subscriptions__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."crm_subscriptions" is 'crm.subscriptions as landed; key (subscription_id) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."erp_tariff_plans__line";
create table if not exists "raw"."erp_tariff_plans" (
    "plan_code" text not null check (btrim("plan_code") <> ''),
    "plan_name" text not null check (btrim("plan_name") <> ''),
    "service_type" text not null check (btrim("service_type") <> '') check ("service_type" in ('voice', 'sms', 'data')),
    "unit" text not null check (btrim("unit") <> '') check ("unit" in ('minute', 'message', 'mb')),
    "unit_price" numeric not null check (coalesce(scale("unit_price") <= 4, "unit_price" is null)),
    "monthly_fee" numeric not null check (coalesce(scale("monthly_fee") <= 4, "monthly_fee" is null)),
    "currency" text not null check (btrim("currency") <> ''),
    "valid_from" date not null,
    "valid_to" date,
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.erp_tariff_plans__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."erp_tariff_plans" is 'erp.tariff_plans as landed; key (plan_code, service_type, valid_from) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."erp_gl_revenue__line";
create table if not exists "raw"."erp_gl_revenue" (
    "posting_id" text not null check (btrim("posting_id") <> ''),
    "posting_date" date not null,
    "period" text not null check (btrim("period") <> ''),
    "gl_account" text not null check (btrim("gl_account") <> ''),
    "revenue_stream" text not null check (btrim("revenue_stream") <> '') check ("revenue_stream" in ('voice', 'sms', 'data', 'recurring')),
    "amount" numeric not null check (coalesce(scale("amount") <= 4, "amount" is null)),
    "currency" text not null check (btrim("currency") <> ''),
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.erp_gl_revenue__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."erp_gl_revenue" is 'erp.gl_revenue as landed; key (posting_id) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."billing_accounts__line";
create table if not exists "raw"."billing_accounts" (
    "account_id" text not null check (btrim("account_id") <> ''),
    "holder_name" text not null check (btrim("holder_name") <> ''),
    "email" text,
    "phone" text,
    "billing_address" text,
    "city" text,
    "postcode" text,
    "status" text not null check (btrim("status") <> '') check ("status" in ('open', 'closed', 'suspended')),
    "opened_at" timestamptz not null,
    "msisdns" text,
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.billing_accounts__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."billing_accounts" is 'billing.accounts as landed; key (account_id) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."billing_invoices__line";
create table if not exists "raw"."billing_invoices" (
    "invoice_id" text not null check (btrim("invoice_id") <> ''),
    "account_id" text not null check (btrim("account_id") <> ''),
    "period" text not null check (btrim("period") <> ''),
    "issue_date" date not null,
    "recurring_amount" numeric not null check (coalesce(scale("recurring_amount") <= 4, "recurring_amount" is null)),
    "usage_amount" numeric not null check (coalesce(scale("usage_amount") <= 4, "usage_amount" is null)),
    "tax_amount" numeric not null check (coalesce(scale("tax_amount") <= 4, "tax_amount" is null)),
    "total_amount" numeric not null check (coalesce(scale("total_amount") <= 4, "total_amount" is null)),
    "currency" text not null check (btrim("currency") <> ''),
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.billing_invoices__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."billing_invoices" is 'billing.invoices as landed; key (invoice_id) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."billing_usage__line";
create table if not exists "raw"."billing_usage" (
    "usage_id" text not null check (btrim("usage_id") <> ''),
    "cdr_id" text not null check (btrim("cdr_id") <> ''),
    "account_id" text not null check (btrim("account_id") <> ''),
    "msisdn" text not null check (btrim("msisdn") <> ''),
    "event_time" timestamptz not null,
    "service_type" text not null check (btrim("service_type") <> '') check ("service_type" in ('voice', 'sms', 'data')),
    "quantity" numeric not null check (coalesce(scale("quantity") <= 4, "quantity" is null)),
    "unit" text not null check (btrim("unit") <> '') check ("unit" in ('minute', 'message', 'mb')),
    "plan_code" text not null check (btrim("plan_code") <> ''),
    "rated_amount" numeric not null check (coalesce(scale("rated_amount") <= 4, "rated_amount" is null)),
    "rated_at" timestamptz not null,
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.billing_usage__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."billing_usage" is 'billing.usage as landed; key (usage_id) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."cdr_records__line";
create table if not exists "raw"."cdr_records" (
    "cdr_id" text not null check (btrim("cdr_id") <> ''),
    "msisdn" text not null check (btrim("msisdn") <> ''),
    "called_number" text,
    "event_time" timestamptz not null,
    "service_type" text not null check (btrim("service_type") <> '') check ("service_type" in ('voice', 'sms', 'data')),
    "duration_s" bigint,
    "volume_mb" numeric check (coalesce(scale("volume_mb") <= 4, "volume_mb" is null)),
    "call_result" text not null check (btrim("call_result") <> '') check ("call_result" in ('answered', 'busy', 'no_answer', 'failed', 'dropped')),
    "cell_id" text,
    "network_element_id" text not null check (btrim("network_element_id") <> ''),
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.cdr_records__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."cdr_records" is 'cdr.records as landed; key (cdr_id) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."oss_network_elements__line";
create table if not exists "raw"."oss_network_elements" (
    "network_element_id" text not null check (btrim("network_element_id") <> ''),
    "element_type" text not null check (btrim("element_type") <> '') check ("element_type" in ('msc', 'smsc', 'sgsn', 'pgw', 'enodeb', 'gnodeb')),
    "vendor" text not null check (btrim("vendor") <> ''),
    "region" text not null check (btrim("region") <> ''),
    "site_id" text not null check (btrim("site_id") <> ''),
    "parent_element_id" text,
    "status" text not null check (btrim("status") <> '') check ("status" in ('in_service', 'maintenance', 'decommissioned')),
    "commissioned_at" date not null,
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.oss_network_elements__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."oss_network_elements" is 'oss.network_elements as landed; key (network_element_id) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."oss_alarms__line";
create table if not exists "raw"."oss_alarms" (
    "alarm_id" text not null check (btrim("alarm_id") <> ''),
    "network_element_id" text not null check (btrim("network_element_id") <> ''),
    "severity" text not null check (btrim("severity") <> '') check ("severity" in ('critical', 'major', 'minor', 'warning')),
    "alarm_type" text not null check (btrim("alarm_type") <> ''),
    "raised_at" timestamptz not null,
    "cleared_at" timestamptz,
    "description" text,
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.oss_alarms__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."oss_alarms" is 'oss.alarms as landed; key (alarm_id) per batch; lineage: batch_id, file, line, loaded_at';
create sequence if not exists "raw"."oss_provisioning__line";
create table if not exists "raw"."oss_provisioning" (
    "msisdn" text not null check (btrim("msisdn") <> ''),
    "imsi" text not null check (btrim("imsi") <> ''),
    "plan_code" text not null check (btrim("plan_code") <> ''),
    "status" text not null check (btrim("status") <> '') check ("status" in ('active', 'barred', 'deprovisioned')),
    "activated_at" timestamptz not null,
    "deactivated_at" timestamptz,
    "updated_at" timestamptz not null,
    batch_id text not null default current_setting('sdp.batch_id'),
    file text not null default current_setting('sdp.file'),
    line bigint not null default nextval('raw.oss_provisioning__line'::regclass),
    loaded_at timestamptz not null default now()
);
comment on table "raw"."oss_provisioning" is 'oss.provisioning as landed; key (msisdn) per batch; lineage: batch_id, file, line, loaded_at';
"""

QUALITY = """
create schema if not exists quality;
create table if not exists quality.check_results (
    result_id bigint generated always as identity primary key,
    scan_id text not null,
    dataset text not null,
    check_name text not null,
    definition text not null,
    partition_date date,
    outcome text not null check (outcome in ('pass', 'warn', 'fail', 'error')),
    measured_value double precision,
    threshold text,
    severity text not null check (severity in ('warn', 'error')),
    scanned_at timestamptz not null default now()
);
create index if not exists check_results_dataset on quality.check_results (dataset, scanned_at);
comment on table quality.check_results is 'every Soda check of every scan (append only)';
create table if not exists quality.metric_history (
    metric text not null,
    dimension text not null,
    day date not null,
    value double precision not null,
    support bigint,
    computed_at timestamptz not null default now(),
    primary key (metric, dimension, day)
);
create table if not exists quality.anomalies (
    metric text not null,
    dimension text not null,
    day date not null,
    observed double precision not null,
    expected double precision not null,
    expected_low double precision not null,
    expected_high double precision not null,
    score double precision not null,
    method text not null,
    detected_at timestamptz not null default now(),
    primary key (metric, dimension, day, method)
);
create table if not exists quality.scores (
    dataset text not null,
    day date not null,
    score numeric(5, 1) not null,
    checks int not null,
    passed int not null,
    warned int not null,
    failed int not null,
    computed_at timestamptz not null default now(),
    primary key (dataset, day)
);
create table if not exists quality.events (
    event_id bigint generated always as identity primary key,
    event_type text not null,
    dataset text,
    day date,
    payload jsonb not null,
    created_at timestamptz not null default now(),
    published_at timestamptz
);
"""

RECONCILIATION = """
create schema if not exists reconciliation;
create table if not exists reconciliation.customer_matches (
    customer_id text primary key,
    z_cluster text not null,
    z_min_score double precision,
    z_max_score double precision,
    model_fingerprint text not null,
    matched_at timestamptz not null default now(),
    -- Zingg's own cluster, before the acceptance floor (z_cluster is the accepted one)
    zingg_cluster text
);
create table if not exists reconciliation.customer_links (
    customer_id text not null,
    account_id text not null,
    z_cluster text not null,
    z_score double precision,
    model_fingerprint text not null,
    linked_at timestamptz not null default now(),
    primary key (customer_id, account_id)
);
create table if not exists reconciliation.match_reviews (
    model text not null check (model in ('match', 'link')),
    left_id text not null,
    right_id text not null,
    decision text not null check (decision in ('confirmed', 'rejected')),
    reviewer text not null,
    note text,
    reviewed_at timestamptz not null default now(),
    primary key (model, left_id, right_id)
);
comment on table reconciliation.match_reviews is
    'pairs a person confirmed or rejected: they override Zingg and join the next training';
"""

RCA = """
create schema if not exists rca;
create table if not exists rca.findings (
    finding_id text not null,
    symptom text not null,
    metric text not null,
    amount numeric not null,
    finding_start timestamptz not null,
    finding_end timestamptz not null,
    cause_rank int not null,
    cause_kind text not null,
    dimension text not null,
    dimension_value text not null,
    window_start timestamptz not null,
    window_end timestamptz not null,
    score double precision not null,
    evidence text not null,
    recommendation text not null,
    analysed_at timestamptz not null default now(),
    primary key (finding_id, cause_rank)
);
comment on table rca.findings is
    'root-cause analysis: per finding (a leak, a drop, a feed problem) its causes, best first';
"""

OPS = """
create schema if not exists ops;
create table if not exists ops.event_outbox (
    seq bigint generated always as identity primary key,
    event_id text not null unique,
    topic text not null,
    event jsonb not null,
    recorded_at timestamptz not null default now(),
    published_at timestamptz
);
create index if not exists event_outbox_pending on ops.event_outbox (seq)
    where published_at is null;
comment on table ops.event_outbox is
    'every event a stage published or will publish, with its topic and when it was sent';
"""


def upgrade() -> None:
    for block in (RAW_CONTROL, RAW_ENTITIES, QUALITY, RECONCILIATION, RCA, OPS):
        op.execute(block)


def downgrade() -> None:
    for schema in ("ops", "rca", "reconciliation", "quality", "raw"):
        op.execute(f"drop schema if exists {schema} cascade")
