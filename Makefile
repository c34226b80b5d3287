# The two commands: `make run` (the platform, end to end) and `make test` (the suite).
# Both create or refresh .venv and are safe to repeat.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SDP := $(BIN)/sdp
STAMP := $(VENV)/.installed
MANIFEST := dbt/target/manifest.json
DBT_SOURCES := $(shell find dbt/models dbt/macros dbt/tests -type f) dbt/dbt_project.yml
# tests use their own state and port, so they never touch what `make run` built
TEST_ENV := SDP_HOME=$(CURDIR)/.sdp/test SDP_PG_PORT=55433 SDP_DAGSTER_PORT=3001 SDP_KAFKA_PORT=59192

.PHONY: install run test dagster-cli-check stress ui status down bench lint clean

install: $(STAMP) $(MANIFEST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# Zingg's wheel pins py4j 0.10.9, which pyspark 3.5 cannot use; only its jar is needed
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps 'zingg==0.7.0'
	@touch $@

# @dbt_assets reads the manifest when the code location loads: build it here, never at import.
# Parsed with the operator profile's vars, as every dbt run passes them (equal vars let dbt
# parse partially instead of again in full).
$(MANIFEST): $(STAMP) $(DBT_SOURCES) operator.yaml
	@cd dbt && DBT_SEND_ANONYMOUS_USAGE_STATS=false ../$(BIN)/dbt parse --quiet --profiles-dir . \
	  --vars "$$(../$(BIN)/python -c 'from sdp.dbt_cli import dbt_vars; print(dbt_vars())')"

run: install
	@$(SDP) up
	@$(SDP) generate --scenario scenarios/default.yaml
	@$(SDP) materialize
	@$(SDP) summary
	@$(SDP) score

test: install
	@$(BIN)/ruff check --quiet .
	@$(TEST_ENV) $(SDP) up >/dev/null
	@$(TEST_ENV) $(BIN)/pytest; status=$$?; \
	  if [ $$status -eq 0 ]; then $(MAKE) --no-print-directory dagster-cli-check; status=$$?; fi; \
	  $(TEST_ENV) $(SDP) down >/dev/null; exit $$status

# The dagster CLI as CI uses it: the workspace validates. The path `make run` takes, the whole
# graph for a range of days through `sdp materialize`, the dagster CLI, the Postgres-backed
# instance and the multiprocess executor (a process per step: what found the DDL deadlock), is
# the main run of tests/test_stress.py, which the suite runs beside concurrent re-loads.
dagster-cli-check:
	@$(TEST_ENV) $(SDP) validate

# The concurrency test of the suite, five rounds in a row (the suite runs one).
stress: install
	@$(TEST_ENV) $(SDP) up >/dev/null
	@$(TEST_ENV) SDP_STRESS_ROUNDS=$${SDP_STRESS_ROUNDS:-5} $(BIN)/pytest tests/test_stress.py; \
	  status=$$?; $(TEST_ENV) $(SDP) down >/dev/null; exit $$status

ui: install
	@$(SDP) up >/dev/null
	@$(SDP) ui

status: install
	@$(SDP) status

down: install
	@$(SDP) down

bench: install
	@$(TEST_ENV) $(SDP) up >/dev/null
	@$(TEST_ENV) $(BIN)/python benchmarks/whole_graph.py && \
	  $(TEST_ENV) $(BIN)/python benchmarks/ingest.py && \
	  $(TEST_ENV) $(BIN)/python benchmarks/kafka_stream.py && \
	  $(TEST_ENV) $(BIN)/python benchmarks/dbt_build.py && \
	  $(TEST_ENV) $(BIN)/python benchmarks/zingg_match.py && \
	  $(TEST_ENV) $(BIN)/python benchmarks/febrl.py && \
	  $(TEST_ENV) $(BIN)/python benchmarks/rca_scale.py && \
	  $(TEST_ENV) $(BIN)/python benchmarks/rca_accuracy.py; status=$$?; \
	  $(TEST_ENV) $(SDP) down >/dev/null; exit $$status

lint: install
	@$(BIN)/ruff check .

clean: down
	rm -rf .sdp
