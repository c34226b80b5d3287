"""The production stack's files, checked without Docker and without any service.

`docker-compose.yml` is validated against the Compose Specification's JSON schema (vendored in
`tests/schemas/`, see its README), then against what it refers to: the variables `.env.example`
defines, the Dockerfile, the bind-mounted files, the Dagster instance and workspace, the Grafana
provisioning and dashboard, the Prometheus configuration.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from documents import strings
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE_SCHEMA = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"
DEPLOY = ROOT / "deploy"
GRAFANA = DEPLOY / "grafana"

REQUIRED_SERVICES = {
    "postgres",
    "kafka",
    "kafka-topics",
    "nifi",
    "code-location",
    "dagster-webserver",
    "dagster-daemon",
    "prometheus",
    "grafana",
}
DAGSTER_SERVICES = ("code-location", "dagster-webserver", "dagster-daemon")
# environment keys whose value is a secret
SECRET_KEY = re.compile(r"PASSWORD|PASSWD|(?:^|_)PASS$|SECRET|TOKEN|(?:^|_)KEY$", re.IGNORECASE)
SECRET_PLACEHOLDER = "change-me"

# Compose interpolation: `$$` (a literal dollar), `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
# `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, and the bare `$VAR`.
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
ONLY_A_VARIABLE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}$")
URL_CREDENTIALS = re.compile(r"://(?P<user>[^:/@\s]+):(?P<password>[^@\s]+)@")


# -- reading the files ------------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@cache
def compose_schema() -> dict[str, Any]:
    return json.loads(COMPOSE_SCHEMA.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


@cache
def env_example() -> dict[str, str]:
    """NAME=value lines of .env.example (comments and blank lines skipped)."""
    defined: dict[str, str] = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name), (
            f".env.example line {number} is not NAME=value: {line!r}"
        )
        assert name not in defined, f".env.example defines {name} twice"
        defined[name] = value
    return defined


def references(node: Any) -> dict[str, set[str]]:
    """Variable name -> the interpolation operators it is read with ('' for plain)."""
    found: dict[str, set[str]] = {}
    for text in strings(node):
        for match in INTERPOLATION.finditer(text):
            name = match["braced"] or match["bare"]
            if name:
                found.setdefault(name, set()).add(match["op"] or "")
    return found


def interpolate(node: Any, env: dict[str, str]) -> Any:
    """The document as Compose would see it with `env` (raises on a missing required var)."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if not isinstance(node, str):
        return node

    def substitute(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"] or "", match["arg"] or ""
        value = env.get(name)
        if op in (":-", "-"):
            return (value if value else arg) if op == ":-" else (arg if value is None else value)
        if op in (":?", "?"):
            if value is None or (op == ":?" and not value):
                raise KeyError(f"{name} is required: {arg}")
            return value
        if op in (":+", "+"):
            return arg if (value if op == ":+" else value is not None) else ""
        return value or ""

    return INTERPOLATION.sub(substitute, node)


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's `environment`, in either of its two forms, as a mapping."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.partition("=") for item in env)
        return {name: value if sep else None for name, sep, value in pairs}
    return {key: None if value is None else str(value) for key, value in env.items()}


def is_one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """Dependency -> condition (the list form means service_started)."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def mounts(service: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(type, source, target) of each entry of a service's `volumes`."""
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            yield entry.get("type", "volume"), entry.get("source", ""), entry["target"]
            continue
        parts = entry.split(":")
        if len(parts) == 1:
            yield "volume", "", parts[0]  # anonymous volume
        elif parts[0].startswith((".", "/", "~")):
            yield "bind", parts[0], parts[1]
        else:
            yield "volume", parts[0], parts[1]


def bind_mounts() -> list[tuple[str, str]]:
    return [
        (name, source)
        for name, service in services().items()
        for kind, source, _ in mounts(service)
        if kind == "bind"
    ]


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(compose_schema())
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    ]


# -- the Compose Specification ------------------------------------------------------------------


def test_schema_is_draft_7_and_well_formed():
    schema = compose_schema()
    assert "draft-07" in schema["$schema"]
    Draft7Validator.check_schema(schema)


def test_compose_file_validates_against_the_compose_specification():
    assert schema_errors(compose()) == []


def test_compose_file_validates_once_interpolated_with_env_example():
    assert schema_errors(interpolate(compose(), env_example())) == []


@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(lambda doc: doc["services"]["postgres"].update(imagee="x"), id="service-key"),
        pytest.param(lambda doc: doc.update(servics={}), id="top-level-key"),
        pytest.param(
            lambda doc: doc["services"]["grafana"]["depends_on"]["postgres"].update(
                condition="service_ready"
            ),
            id="depends-on-condition",
        ),
        pytest.param(
            lambda doc: doc["services"]["kafka"]["healthcheck"].update(interval=15),
            id="healthcheck-type",
        ),
    ],
)
def test_a_broken_copy_fails_schema_validation(break_it):
    """The validator is live: a copy with one invalid entry is refused."""
    broken = copy.deepcopy(compose())
    break_it(broken)
    assert schema_errors(broken)


def test_no_top_level_version_key():
    assert "version" not in compose()


def test_every_dollar_is_an_interpolation_or_an_escape():
    for text in strings(compose()):
        rest = INTERPOLATION.sub("", text)
        assert "$" not in rest, f"unparsed `$` in {text!r}"


# -- variables and secrets --------------------------------------------------------------------


def test_every_variable_the_compose_file_reads_is_in_env_example():
    missing = sorted(set(references(compose())) - set(env_example()))
    assert missing == [], f"read by docker-compose.yml, not in .env.example: {missing}"


def test_env_example_defines_nothing_unused():
    unused = sorted(set(env_example()) - set(references(compose())))
    assert unused == [], f"in .env.example, never read by docker-compose.yml: {unused}"


def test_env_example_comments_every_variable():
    previous = ""
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            name = line.split("=", 1)[0]
            assert previous.startswith("#"), f"{name} has no comment line above it"
        previous = line


def test_env_example_holds_only_placeholders_for_secrets():
    for name, value in env_example().items():
        if SECRET_KEY.search(name):
            assert value.startswith(SECRET_PLACEHOLDER), f"{name} looks like a real secret"


def test_secrets_are_required_never_defaulted():
    for name, ops in references(compose()).items():
        if SECRET_KEY.search(name):
            assert ops <= {":?", "?"}, f"{name} is read with {ops}: use ${{{name}:?message}}"


def test_no_inline_secret():
    for service_name, service in services().items():
        for key, value in environment(service).items():
            where = f"{service_name}: {key}"
            if SECRET_KEY.search(key):
                assert value is not None and ONLY_A_VARIABLE.match(value), (
                    f"{where} must be a ${{VAR}} reference, not {value!r}"
                )
            for match in URL_CREDENTIALS.finditer(value or ""):
                assert ONLY_A_VARIABLE.match(match["password"]), (
                    f"{where}: the URL's password must be a ${{VAR}} reference"
                )


# -- services ------------------------------------------------------------------------------------


def test_required_services_exist():
    assert set(services()) >= REQUIRED_SERVICES, REQUIRED_SERVICES - set(services())


def test_every_long_running_service_has_a_healthcheck():
    for name, service in services().items():
        if is_one_shot(service):
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable"), f"{name} has no healthcheck"
        test = check["test"]
        first = test[0] if isinstance(test, list) else test
        assert first in ("CMD", "CMD-SHELL") or isinstance(test, str), f"{name}: {test!r}"


def test_one_shot_services_are_awaited_by_another_service():
    awaited = {
        target
        for service in services().values()
        for target, condition in depends_on(service).items()
        if condition == "service_completed_successfully"
    }
    for name, service in services().items():
        if is_one_shot(service):
            assert name in awaited, f"one-shot {name} is never waited for"
            assert not service.get("ports"), f"one-shot {name} publishes ports"
    for name in awaited:
        assert is_one_shot(services()[name]), f"{name} is awaited to complete but restarts"


def test_every_depends_on_target_exists():
    for name, service in services().items():
        for target in depends_on(service):
            assert target in services(), f"{name} depends on unknown service {target}"
            assert target != name


def test_service_healthy_targets_have_a_healthcheck():
    for name, service in services().items():
        for target, condition in depends_on(service).items():
            if condition == "service_healthy":
                assert services()[target].get("healthcheck"), (
                    f"{name} waits for {target} to be healthy, which has no healthcheck"
                )


def test_every_named_volume_is_declared_and_used():
    declared = set(compose().get("volumes") or {})
    used = {
        source
        for service in services().values()
        for kind, source, _ in mounts(service)
        if kind == "volume" and source
    }
    assert used - declared == set(), f"volumes used but not declared: {used - declared}"
    assert declared - used == set(), f"volumes declared but never used: {declared - used}"


def test_build_context_has_a_dockerfile():
    built = [(name, s["build"]) for name, s in services().items() if "build" in s]
    assert built, "no service builds the platform image"
    for name, build in built:
        if isinstance(build, str):
            build = {"context": build}
        context = (ROOT / build.get("context", ".")).resolve()
        assert context.is_dir(), f"{name}: build context {context} is missing"
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        assert dockerfile.is_file(), f"{name}: {dockerfile} is missing"


@pytest.mark.parametrize(
    ("service", "source"), bind_mounts(), ids=[f"{s}:{p}" for s, p in bind_mounts()]
)
def test_bind_mount_sources_exist_in_the_repository(service, source):
    path = (ROOT / source).resolve()
    assert path.is_relative_to(ROOT), f"{service} mounts {source}, outside the repository"
    assert path.exists(), f"{service} mounts {source}, which does not exist"


def test_services_reach_each_other_through_the_environment():
    code = environment(services()["code-location"])
    assert "@postgres:" in code["SDP_WAREHOUSE_URL"]
    assert code["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] in services()
    assert {"SDP_HOME", "SDP_LANDING", "DAGSTER_HOME"} <= set(code)


# -- Dagster ---------------------------------------------------------------------------------


def test_dagster_instance_reads_its_connection_from_the_environment():
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    postgres_db = instance["storage"]["postgres"]["postgres_db"]
    assert set(postgres_db) >= {"hostname", "username", "password", "db_name"}
    assert instance["run_coordinator"]["class"] == "QueuedRunCoordinator"
    wanted = {value["env"] for value in postgres_db.values()}
    wanted.add(instance["run_coordinator"]["config"]["max_concurrent_runs"]["env"])
    for name in DAGSTER_SERVICES:
        missing = wanted - set(environment(services()[name]))
        assert missing == set(), f"{name} does not set {missing}"


def test_dagster_workspace_points_at_the_code_location():
    development = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    server = workspace["load_from"][0]["grpc_server"]
    command = services()[server["host"]]["command"]
    assert command[command.index("-p") + 1] == str(server["port"])
    location = development["load_from"][0]["python_module"]["location_name"]
    assert server["location_name"] == location
    assert command[command.index("--location-name") + 1] == location
    assert (
        command[command.index("-m") + 1]
        == (development["load_from"][0]["python_module"]["module_name"])
    )


# -- Grafana and Prometheus ---------------------------------------------------------------------


def provisioned_datasources() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted((GRAFANA / "provisioning" / "datasources").glob("*.y*ml")):
        for source in yaml.safe_load(path.read_text())["datasources"]:
            found[source["uid"]] = source
    return found


def test_grafana_datasources_read_their_settings_from_the_environment():
    sources = provisioned_datasources()
    assert {s["type"] for s in sources.values()} >= {"prometheus", "grafana-postgresql-datasource"}
    grafana_env = set(environment(services()["grafana"]))
    for uid, source in sources.items():
        for text in strings(source):
            for name in re.findall(r"\$__env\{([A-Za-z_][A-Za-z0-9_]*)\}", text):
                assert name in grafana_env, f"datasource {uid} reads {name}, unset in grafana"
        password = (source.get("secureJsonData") or {}).get("password")
        if password is not None:
            assert password.startswith("$__env{"), f"datasource {uid} has a literal password"


def dashboard_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        if panel.get("type") == "row":
            yield from dashboard_panels(panel.get("panels") or [])
        else:
            yield panel


def test_grafana_dashboard_panels_have_a_datasource_and_a_query():
    dashboards = sorted((GRAFANA / "dashboards").glob("*.json"))
    assert dashboards, "no dashboard JSON under deploy/grafana/dashboards"
    sources = provisioned_datasources()
    for path in dashboards:
        dashboard = json.loads(path.read_text())
        panels = list(dashboard_panels(dashboard["panels"]))
        assert panels, f"{path.name} has no panel"
        for panel in panels:
            where = f"{path.name}: panel {panel.get('title')!r}"
            assert panel.get("datasource", {}).get("uid") in sources, f"{where}: datasource"
            assert panel.get("targets"), f"{where}: no query"
            for target in panel["targets"]:
                uid = (target.get("datasource") or panel["datasource"])["uid"]
                assert uid in sources, f"{where}: unknown datasource {uid}"
                query = target.get("rawSql") or target.get("expr") or ""
                assert query.strip(), f"{where}: target {target.get('refId')} has no query"


def test_grafana_dashboard_reads_the_quality_and_controls_schemas():
    sql = " ".join(
        target.get("rawSql", "")
        for path in (GRAFANA / "dashboards").glob("*.json")
        for panel in dashboard_panels(json.loads(path.read_text())["panels"])
        for target in panel["targets"]
    )
    for table in (
        "quality.check_results",
        "quality.scores",
        "quality.anomalies",
        "controls.ctl_leakage_daily",
    ):
        assert table in sql, f"no panel reads {table}"


def test_prometheus_config_has_scrape_configs():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = config["scrape_configs"]
    assert jobs, "no scrape_configs"
    names = [job["job_name"] for job in jobs]
    assert len(names) == len(set(names)), f"duplicate job names: {names}"
    assert "prometheus" in names
    for job in jobs:
        targets = [t for group in job["static_configs"] for t in group["targets"]]
        assert targets, f"job {job['job_name']} has no target"
        for target in targets:
            host = target.split(":")[0]
            assert host == "localhost" or host in services(), f"{target}: no such service"


def test_both_instances_fail_dead_runs_through_the_platform_launcher(tmp_path):
    """Run monitoring on, with a launcher that can tell a dead run, embedded and in compose."""
    from dagster._serdes import ConfigurableClassData

    from orchestration.launcher import MonitoredRunLauncher
    from sdp.runtime.services import write_dagster_instance
    from sdp.settings import load_settings

    write_dagster_instance(load_settings({"SDP_HOME": str(tmp_path)}))
    embedded = yaml.safe_load((tmp_path / "dagster" / "dagster.yaml").read_text())
    compose = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    for instance in (embedded, compose):
        assert instance["run_monitoring"]["enabled"] is True
        assert instance["run_monitoring"]["max_resume_run_attempts"] == 0
        launcher = instance["run_launcher"]
        data = ConfigurableClassData(
            launcher["module"], launcher["class"], yaml.safe_dump(launcher.get("config") or {})
        )
        loaded = data.rehydrate(MonitoredRunLauncher)
        assert isinstance(loaded, MonitoredRunLauncher) and loaded.supports_check_run_worker_health
    assert embedded["run_launcher"]["config"] == {"local_runs": True}
