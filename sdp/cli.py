"""`sdp`: run the platform on one machine, and look inside it.

The CLI never imports Dagster: it drives the code location through the dagster CLI, the way CI
and an operator's scripts do.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import click
import psycopg

from sdp.operator import (
    DEFAULT_FILE,
    FILE_VARIABLE,
    SETTINGS,
    OperatorProfile,
    ProfileError,
    load_profile,
)
from sdp.settings import VARIABLES, load_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS_MODULE = "orchestration.definitions"
# the dagster CLI installed beside this Python
DAGSTER = str(Path(sys.executable).with_name("dagster"))
# how long `sdp ui` lets `dagster dev` shut its webserver and daemon down before killing them
UI_STOP_GRACE_S = 45


def _settings():
    try:
        return load_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _print_status(state: dict) -> None:
    for name, info in state.items():
        healthy = info.get("healthy")
        mark = info.get("mark") or {True: "ok", False: "DOWN", None: "-"}[healthy]
        where = (
            info.get("url")
            or info.get("address")
            or info.get("path")
            or info.get("java_home")
            or info.get("revision")
            or info.get("profile")
        )
        click.echo(f"{name:<10} {mark:<5} {where}")
        keys = ("ui", "daemon", "data_dir", "log", "dagster_home", "version", "source", "error")
        for key in keys:
            if info.get(key):
                click.echo(f"{'':<16}{key}: {info[key]}")


def _unreachable_warehouse(exc: psycopg.OperationalError) -> str:
    """Which configured address failed, and how to fix it, never the password."""
    from sdp.db import address, first_line

    settings = load_settings()
    reason = first_line(exc)
    if settings.warehouse_url:
        where = address(settings.warehouse_url)
        return f"cannot reach the warehouse at {where} (SDP_WAREHOUSE_URL): {reason}"
    return (
        f"cannot reach the embedded PostgreSQL on 127.0.0.1:{settings.pg_port} (SDP_PG_PORT); "
        f"is it started (`sdp up`)? {reason}"
    )


class _Platform(click.Group):
    """Every failure is one line that says what and why; a traceback goes to the log only."""

    def invoke(self, ctx: click.Context):
        from sdp.events import EventBusError
        from sdp.migrations import MigrationError

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            # the reader went away (`sdp status | head`): nothing left to say to it
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except psycopg.OperationalError as exc:
            raise click.ClickException(_unreachable_warehouse(exc)) from exc
        except (EventBusError, MigrationError, ProfileError) as exc:
            raise click.ClickException(str(exc)) from exc
        except Exception as exc:
            try:
                log = load_settings().logs_dir / "sdp-cli.log"
            except ValueError:
                log = Path(".sdp") / "logs" / "sdp-cli.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"$ sdp {' '.join(sys.argv[1:])}\n{traceback.format_exc()}\n")
            raise click.ClickException(f"{type(exc).__name__}: {exc} (traceback in {log})") from exc


@click.group(cls=_Platform)
def main() -> None:
    """SaaS Data Platform for telecom operators."""


@main.command()
@click.option("--json", "as_json", is_flag=True, help="print the status as JSON")
def up(as_json: bool) -> None:
    """Start the embedded services (nothing embedded when SDP_WAREHOUSE_URL is set)."""
    from sdp.runtime.kafka import KafkaError
    from sdp.runtime.postgres import PostgresError
    from sdp.runtime.services import up as start

    try:
        state = start(_settings(), log=lambda line: click.echo(line, err=as_json))
    except (PostgresError, KafkaError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(state, indent=2)) if as_json else _print_status(state)


@main.command()
@click.option(
    "--new",
    "message",
    help="write the next revision with the DDL the contract now needs (to review and commit)",
)
def migrate(message: str | None) -> None:
    """Bring the warehouse schema to the code's newest revision (Alembic; safe to repeat)."""
    from sdp.db import connect
    from sdp.migrations import describe, new_revision

    if message:
        with connect(settings=_settings()) as conn:
            click.echo(f"wrote {new_revision(conn, message)}: review it, then sdp migrate")
        return
    state = _migrate()
    click.echo(f"warehouse schema at revision {describe(state.current or '')}")


def _migrate():
    """Apply the migrations the warehouse lacks; every entry point that serves or runs the
    code location calls it first, so a run never finds tables missing."""
    from sdp.migrations import upgrade
    from sdp.runtime.services import warehouse_url

    return upgrade(warehouse_url(_settings()), click.echo)


@main.command()
def down() -> None:
    """Stop the embedded services; their data stays under $SDP_HOME."""
    from sdp.runtime.services import down as stop

    _print_status(stop(_settings()))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="one key per service, for scripts")
def status(as_json: bool) -> None:
    """Each service: address, data directory, health."""
    from sdp.runtime.services import status as current

    state = current(_settings())
    click.echo(json.dumps(state, indent=2)) if as_json else _print_status(state)
    if not all(info.get("healthy") is not False for info in state.values()):
        sys.exit(1)


@main.command()
@click.option("--get", "name", help="print one variable's value (how the exports read secrets)")
def env(name: str | None) -> None:
    """Shell exports that point dagster, dbt and Spark at the services: eval "$(sdp env)".

    What is printed holds no password: a value that carries one is read when the shell
    evaluates the line, by `sdp env --get NAME`, so it never lands in a terminal or a log."""
    import shlex

    from sdp.runtime.services import secret_values, service_env

    settings = _settings()
    values = service_env(settings)
    if name:
        if name not in values:
            raise click.ClickException(f"{name} is not one of: {', '.join(values)}")
        click.echo(values[name])
        return
    secrets = secret_values(settings)
    me = shlex.quote(str(Path(sys.executable).with_name("sdp")))
    for key, value in values.items():
        if any(secret in value for secret in secrets):
            click.echo(f'export {key}="$({me} env --get {key})"')
        else:
            click.echo(f"export {key}={shlex.quote(value)}")


@main.group()
def kafka() -> None:
    """The platform's topics on Kafka (the embedded broker or KAFKA_BOOTSTRAP_SERVERS)."""


def _bootstrap() -> str:
    from sdp.runtime.services import kafka_bootstrap_servers

    return kafka_bootstrap_servers(_settings())


@kafka.command()
@click.option("--json", "as_json", is_flag=True, help='{"topics": {name: {"partitions": n}}}')
def topics(as_json: bool) -> None:
    """Create the platform's topics that are missing (three partitions each) and list them."""
    from sdp.events import EventBusError, ensure_topics

    try:
        counts = ensure_topics(_bootstrap())
    except EventBusError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"topics": {t: {"partitions": n} for t, n in counts.items()}}))
    else:
        for name, partitions in sorted(counts.items()):
            click.echo(f"{name:<24} {partitions} partitions")


@kafka.command()
@click.argument("topic")
@click.option("--type", "event_type", default="debug", show_default=True, help="event_type")
@click.option("--source", default="sdp-cli", show_default=True, help="envelope source")
def produce(topic: str, event_type: str, source: str) -> None:
    """Publish one event per line of standard input (each line a JSON payload)."""
    from sdp.events import EventBusError, envelope, publish

    events = []
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"stdin line {number}: not JSON: {exc}") from exc
        events.append(envelope(event_type, source, payload))
    try:
        click.echo(f"published {publish(_bootstrap(), topic, events)} events to {topic}")
    except EventBusError as exc:
        raise click.ClickException(str(exc)) from exc


@kafka.command()
@click.argument("topic")
@click.option("--last", type=int, default=20, show_default=True, help="how many events")
def consume(topic: str, last: int) -> None:
    """Print a topic's most recent events (all partitions, oldest first), one JSON per line."""
    from sdp.events import EventBusError, read_topic

    try:
        events = read_topic(_bootstrap(), topic)
    except EventBusError as exc:
        raise click.ClickException(str(exc)) from exc
    events.sort(key=lambda e: str(e.get("occurred_at", "")))
    for event in events[-last:]:
        click.echo(json.dumps(event))


def _announce(landing: Path, day: str | None) -> int:
    from sdp.ingest.landing_events import publish_landed
    from sdp.landing import ManifestError, iter_manifests, read_manifest

    manifests = []
    for path in iter_manifests(landing, day=day):
        try:
            manifests.append(read_manifest(path))
        except ManifestError as exc:
            click.echo(f"not announced: {exc}", err=True)
    return publish_landed(_bootstrap(), manifests)


@kafka.command()
@click.option("--date", "day", help="only this partition day (YYYY-MM-DD)")
def announce(day: str | None) -> None:
    """Publish a `batch.landed` event on landing-events for every manifest in the landing folder
    (what NiFi sends after each batch); the landing sensor skips batches already loaded."""
    from sdp.events import EventBusError

    try:
        sent = _announce(_settings().landing, day)
    except EventBusError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"published {sent} landing events")


@kafka.command("stream-cdrs")
@click.option("--date", "day", required=True, help="partition day of the landed CDRs")
@click.option("--limit", type=int, help="at most this many records")
def stream_cdrs(day: str, limit: int | None) -> None:
    """Replay a day's landed CDRs as `cdr.record` events on cdr-events, as a mediation platform
    streams them (for demos and load tests; the stream loader keeps what the batches hold)."""
    from sdp.events import EventBusError, envelope, publish
    from sdp.ingest.records import read_csv, read_jsonl
    from sdp.ingest.stream import CDR_EVENT_TYPE
    from sdp.landing import iter_manifests, read_manifest

    def records():
        for path in iter_manifests(_settings().landing, "cdr", "records", day):
            manifest = read_manifest(path)
            data = manifest.data_path.read_bytes()
            if manifest.format == "jsonl":
                rows = (r.obj for r in read_jsonl(data) if r.obj is not None)
            else:
                header, rest = read_csv(data)
                rows = (
                    dict(zip(header or [], r.fields, strict=False))
                    for r in rest
                    if r.fields is not None
                )
            yield from rows

    events = []
    for row in records():
        if limit is not None and len(events) >= limit:
            break
        payload = {k: v for k, v in row.items() if v not in (None, "")}
        events.append(
            envelope(CDR_EVENT_TYPE, "mediation", payload, event_id=f"cdr-{payload.get('cdr_id')}")
        )
    try:
        click.echo(f"published {publish(_bootstrap(), 'cdr-events', events)} CDR events")
    except EventBusError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
def config() -> None:
    """The configuration variables, their defaults and current values."""
    from sdp.runtime.services import redact

    for name, default, meaning in VARIABLES:
        value = redact(os.environ[name]) if os.environ.get(name) else f"(default) {default}"
        click.echo(f"{name:<24} {value}\n{'':<24} {meaning}")
    try:
        profile = load_profile()
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"\noperator profile ({FILE_VARIABLE}={os.environ.get(FILE_VARIABLE) or DEFAULT_FILE})"
    )
    for setting in SETTINGS:
        value = getattr(profile, setting.key)
        source = profile.sources.get(setting.key, "default")
        click.echo(f"{setting.variable:<24} {value}  (from {source})\n{'':<24} {setting.meaning}")


def _warn_other_operator(theirs: OperatorProfile, file: Path) -> None:
    """A scenario of another operator than the platform's: say how to build it."""
    ours = load_profile()
    if all(getattr(ours, s.key) == getattr(theirs, s.key) for s in SETTINGS if s.key != "locale"):
        return
    click.echo(
        f"note: this scenario's operator ({theirs.country} {theirs.currency} {theirs.timezone},"
        f" {file}) is not the platform's ({ours.country} {ours.currency} {ours.timezone});"
        f" build and score it with {FILE_VARIABLE}={file}",
        err=True,
    )


@main.command()
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=PROJECT_ROOT / "scenarios" / "default.yaml",
    show_default=True,
)
@click.option("--seed", type=int, help="overrides the scenario's seed")
@click.option("--customers", type=int, help="number of CRM customers")
@click.option("--days", type=int, help="days of traffic")
@click.option("--traffic", type=float, help="mean CDRs per active line and day")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="first day (YYYY-MM-DD)")
@click.option("--landing", type=click.Path(path_type=Path), help="defaults to $SDP_LANDING")
@click.option("--force", is_flag=True, help="generate even if the landing holds this scenario")
@click.option(
    "--announce/--no-announce",
    default=True,
    show_default=True,
    help="publish a landing-events event per batch, as NiFi does",
)
def generate(scenario, seed, customers, days, traffic, start, landing, force, announce) -> None:
    """Write a scenario's feeds to the landing folder, with ground_truth.json beside them."""
    from sdp.generator import generate as run
    from sdp.generator.scenario import ScenarioError, load_scenario

    try:
        # a broken scenario must not wipe the landing it would replace
        spec = load_scenario(scenario)
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    if spec.operator_file is not None:
        _warn_other_operator(spec.profile, spec.operator_file)
    root = landing or _settings().landing
    stamp = root / ".generated.json"
    request = {
        "scenario": str(scenario.resolve()),
        "scenario_sha": _sha(scenario),
        "seed": seed,
        "customers": customers,
        "days": days,
        "traffic": traffic,
        "start": start.date().isoformat() if start else None,
    }
    if not force and stamp.exists() and json.loads(stamp.read_text()) == request:
        click.echo(f"{root} already holds this scenario (use --force to write it again)")
        return
    if root.exists() and any(root.iterdir()):
        shutil.rmtree(root)  # a scenario is a whole world: never mix two in one landing
    try:
        result = run(
            scenario,
            root,
            seed=seed,
            customers=customers,
            days=days,
            traffic=traffic,
            start=start.date() if start else None,
            log=click.echo,
        )
    except ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    stamp.write_text(json.dumps(request))
    click.echo(
        f"landed {result.batches} batches under {result.landing}; "
        f"ground truth: {result.ground_truth}"
    )
    if announce:
        from sdp.events import EventBusError

        try:
            click.echo(f"published {_announce(root, None)} events on landing-events")
        except EventBusError as exc:
            click.echo(
                f"landing-events not published ({exc}); the batches still load with "
                "`sdp load`, `sdp materialize` or the landing folder sensor",
                err=True,
            )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _landed_days(landing: Path) -> list[str]:
    return sorted({p.name[3:] for p in landing.glob("*/*/dt=*") if p.is_dir()})


@main.command()
def days() -> None:
    """The partition days present in the landing folder, one per line."""
    for day in _landed_days(_settings().landing):
        click.echo(day)


@main.command()
@click.option("--source", help="only this source (e.g. cdr)")
@click.option("--entity", help="only this entity (e.g. records)")
@click.option("--date", "day", help="only this partition day (YYYY-MM-DD)")
@click.option("--force", is_flag=True, help="reload batches already loaded unchanged")
def load(source, entity, day, force) -> None:
    """Load landed batches into schema raw directly, without Dagster (debugging, scripts)."""
    from sdp.contracts import load_contract
    from sdp.db import connect
    from sdp.ingest.partition import load_partition
    from sdp.migrations import require_current

    settings = _settings()
    contract = load_contract()
    failed = []
    with connect(settings=settings) as conn:
        require_current(conn)
        for ent in contract.entities:
            if (source and ent.source != source) or (entity and ent.name != entity):
                continue
            for d in [day] if day else _landed_days(settings.landing):
                outcome = load_partition(
                    conn, settings.landing, ent, d, log=click.echo, force=force
                )
                failed += outcome.rejected_batches
    for b in failed:
        click.echo(f"REJECTED {b.batch_id}: {b.error}", err=True)
    if failed:
        sys.exit(1)


@main.command()
def summary() -> None:
    """Rows per raw table, rejects per reason, and where to look next."""
    from sdp.contracts import load_contract
    from sdp.db import connect
    from sdp.ingest.summary import format_summary, raw_summary

    settings = _settings()
    with connect(settings=settings) as conn:
        click.echo(format_summary(raw_summary(conn, load_contract())))
    truth = settings.landing / "ground_truth.json"
    click.echo(f"landing:      {settings.landing}")
    if truth.exists():
        click.echo(f"ground truth: {truth}")
    reports = sorted(settings.reports_dir.glob("rca-*.html"))
    if reports:
        click.echo(
            f"RCA reports:  {settings.reports_dir} (latest {reports[-1].name}); sdp rca analyze"
        )
    click.echo(
        f"Dagster UI:   `make ui` (or `sdp ui`), then http://127.0.0.1:{settings.dagster_port}"
    )


@main.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable result")
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="ground_truth.json (default: the one in $SDP_LANDING)",
)
def score(as_json: bool, truth: Path | None) -> None:
    """Score the platform's answers (control exceptions) against the scenario's ground truth."""
    from sdp.db import connect
    from sdp.scoring import format_score
    from sdp.scoring import score as run

    settings = _settings()
    path = truth or settings.landing / "ground_truth.json"
    if not path.exists():
        raise click.ClickException(f"no ground truth at {path}: sdp generate first")
    with connect(settings=settings) as conn:
        result = run(conn, json.loads(path.read_text()))
    click.echo(json.dumps(result, indent=2) if as_json else format_score(result))


@main.group()
def rca() -> None:
    """Root-cause analysis: findings with ranked causes, evidence and what to do."""


@rca.command()
@click.option("--json", "as_json", is_flag=True, help="one object per finding")
@click.option("--top", type=int, default=20, show_default=True, help="findings to print")
def analyze(as_json: bool, top: int) -> None:
    """Analyse what the warehouse holds now and replace `rca.findings`."""
    from rca.findings import analyze as run
    from sdp.analysis.observe import observe
    from sdp.analysis.store import write_findings
    from sdp.db import connect

    with connect(settings=_settings()) as conn:
        try:
            observations = observe(conn)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        findings = run(observations)
        write_findings(conn, findings)
    if as_json:
        for f in findings[:top]:
            body = {
                "finding_id": f.finding_id,
                "symptom": f.symptom,
                "window": [f.window_start.isoformat(), f.window_end.isoformat()],
                "causes": [
                    {
                        **c.__dict__,
                        "window_start": c.window_start.isoformat(),
                        "window_end": c.window_end.isoformat(),
                    }
                    for c in f.causes
                ],
            }
            click.echo(json.dumps(body))
        return
    click.echo(f"{len(findings)} findings (rca.findings)")
    for f in findings[:top]:
        cause = f.causes[0]
        click.echo(
            f"- {f.symptom}\n    cause: {cause.kind} at {cause.dimension}={cause.value} "
            f"({cause.window_start:%Y-%m-%d %H:%M} .. {cause.window_end:%Y-%m-%d %H:%M})"
            f"\n    evidence: {cause.evidence}\n    do: {cause.recommendation}"
        )


def _day(text: str, option: str):
    from sdp.partitions import parse_day

    try:
        return parse_day(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


@rca.command()
@click.option("--date", "day", required=True, help="the day (YYYY-MM-DD)")
def report(day: str) -> None:
    """Write the day's HTML report under $SDP_HOME/reports from `rca.findings`."""
    from sdp.analysis.report import data_window, write_daily_report
    from sdp.db import connect

    wanted = _day(day, "--date")
    settings = _settings()
    with connect(settings=settings) as conn:
        window = data_window(conn)
        if window is None:
            raise click.ClickException("the warehouse holds no traffic yet: sdp materialize first")
        if not window[0] <= wanted <= window[1]:
            raise click.ClickException(
                f"no data for {wanted}: the warehouse holds {window[0]} to {window[1]}"
            )
        written = write_daily_report(conn, wanted, settings.reports_dir)
    click.echo(f"{written.path} ({written.findings} findings)")


@rca.command()
@click.option("--test-days", type=int, default=2, show_default=True, help="days held out")
@click.option("--top", type=int, default=10, show_default=True, help="elements to print")
def forecast(test_days: int, top: int) -> None:
    """Evaluate the next-day degradation model on held-out days, then forecast tomorrow."""
    from rca.prediction import DegradationRule, ElementDay, evaluate, train
    from sdp.analysis.observe import element_days
    from sdp.db import connect

    with connect(settings=_settings()) as conn:
        try:
            records = [ElementDay.from_row(r) for r in element_days(conn)]
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
    # a fleet whose calls drop at 6 % on a normal day is not degraded every day: the ceiling is
    # the fleet's own 95th percentile when that is above the rule's default
    rates = sorted(r.kpis["drop_rate"] for r in records if r.kpis.get("drop_rate", 0) > 0)
    ceiling = max(DegradationRule.rate_ceiling, rates[int(0.95 * (len(rates) - 1))] if rates else 0)
    rule = DegradationRule(rate_ceiling=ceiling)
    try:
        click.echo(evaluate(records, test_days=test_days, rule=rule).describe())
        forecasts = train(records, rule=rule).forecast(records)
    except ValueError as exc:
        raise click.ClickException(f"cannot forecast from these days: {exc}") from exc
    for f in sorted(forecasts, key=lambda f: -f.probability)[:top]:
        click.echo(f.describe())


def _dagster_env() -> dict[str, str]:
    """The environment a dagster CLI process needs, once its storage is known to answer."""
    from sdp.runtime.postgres import check_server
    from sdp.runtime.services import dagster_storage_url, service_env

    settings = _settings()
    storage = check_server(dagster_storage_url(settings))
    if not storage["healthy"]:
        # the dagster CLI would retry for many seconds before saying the same
        variable = "SDP_DAGSTER_STORAGE_URL" if settings.dagster_storage_url else "the warehouse"
        raise click.ClickException(
            f"Dagster's storage ({variable}) is not reachable: {storage['error'].splitlines()[0]}"
        )
    return {**os.environ, **service_env(settings)}


def _dagster(args: list[str], quiet: bool) -> int:
    settings = _settings()
    env = _dagster_env()
    log_path = settings.logs_dir / "dagster-cli.log"
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    command = [DAGSTER, *args]
    if not quiet:
        return subprocess.call(command, env=env, cwd=PROJECT_ROOT)
    with open(log_path, "w") as log:
        code = subprocess.call(command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=log)
    if code:
        text = log_path.read_text(errors="replace")
        unknown = re.search(r"AssetKey\(s\) (\[.*?\]) were selected, but no AssetsDefinition", text)
        if unknown:
            raise click.ClickException(_unknown_assets(unknown.group(1), env))
        for line in _failure_lines(text):
            click.echo(line, err=True)
        click.echo(f"dagster {' '.join(args)} failed (exit {code}); log: {log_path}", err=True)
    return code


def _failure_lines(log: str) -> list[str]:
    """What a person needs from a failed dagster CLI run: the failures, not the tracebacks."""
    wanted = re.compile(r" - (STEP_FAILURE|RUN_FAILURE) - |Error: |Failure|ASSET_CHECK.* failed")
    lines = [
        re.sub(r"\x1b\[[0-9;]*m", "", line).strip()  # dbt colours its lines
        for line in log.splitlines()
        if wanted.search(line) and not line.startswith((" ", "Traceback"))
    ]
    return list(dict.fromkeys(lines))[-20:] or [
        log.strip().splitlines()[-1] if log.strip() else "no output"
    ]


def _unknown_assets(selected: str, env: dict[str, str]) -> str:
    """Name the keys that match nothing and the asset keys closest to each."""
    listed = subprocess.run(
        [DAGSTER, "asset", "list", "-m", DEFINITIONS_MODULE],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    keys = [k for k in listed.stdout.split() if "/" in k or k.isidentifier()]
    parts = []
    for key in re.findall(r"'([^']*)'", selected):
        close = difflib.get_close_matches(key, keys, n=5, cutoff=0.5)
        close += [k for k in keys if key in k and k not in close][: 5 - len(close)]
        parts.append(f"{key!r} (closest: {', '.join(close) if close else 'none'})")
    return (
        f"no asset is called {'; '.join(parts)}; `dagster asset list -m {DEFINITIONS_MODULE}` "
        "lists them all"
    )


@main.command()
@click.option("--select", default="*", show_default=True, help="Dagster asset selection")
@click.option("--partition", help="one day; default: every landed day, in one run")
@click.option("--verbose", is_flag=True, help="stream Dagster's logs")
def materialize(select, partition, verbose) -> None:
    """Materialize assets for the landed days through the dagster CLI (storage in Postgres)."""
    from sdp.partitions import parse_partition_day

    settings = _settings()
    args = ["asset", "materialize", "-m", DEFINITIONS_MODULE, "--select", select]
    if partition:
        try:
            parse_partition_day(partition, settings)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--partition") from exc
        args += ["--partition", partition]
    else:
        days = _landed_days(settings.landing)
        if not days:
            raise click.ClickException(f"nothing landed under {settings.landing}: sdp generate")
        args += ["--partition-range", f"{days[0]}...{days[-1]}"]
    _migrate()
    click.echo(f"materializing {select} for {args[-1]} ...")
    sys.exit(_dagster(args, quiet=not verbose))


@main.command()
def validate() -> None:
    """`dagster definitions validate` on the workspace."""
    sys.exit(_dagster(["definitions", "validate", "-w", "workspace.yaml"], quiet=True))


@main.command()
def ui() -> None:
    """Open the Dagster UI (webserver + daemon) on the workspace."""
    import contextlib
    import signal
    import time

    settings = _settings()
    _migrate()
    env = _dagster_env()
    command = [
        DAGSTER,
        *("dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(settings.dagster_port)),
    ]
    click.echo(f"Dagster UI on http://127.0.0.1:{settings.dagster_port} (Ctrl-C stops it)")
    stopping: list[int] = []
    dev: subprocess.Popen | None = None

    def stop(signum: int, _frame) -> None:
        if not stopping:
            stopping.append(signum)
            if dev is not None:
                dev.send_signal(signal.SIGTERM)

    # Caught before `dagster dev` starts, so that it starts with both signals at their default.
    # A signal ignored here stays ignored across exec: a background job of a non-interactive
    # shell (CI, nohup) ignores SIGINT, and `dagster dev` handles SIGTERM as it handles SIGINT,
    # so it ignored the stop too and was killed after the grace period (measured: 45 s lost).
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # its own session: a Ctrl-C reaches only this process, which asks `dagster dev` once to stop
    # (a second interrupt would cut short its shutdown of the webserver and the daemon)
    dev = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True)
    if stopping:  # a signal arrived while it started
        dev.send_signal(signal.SIGTERM)
    while not stopping and dev.poll() is None:
        time.sleep(0.5)
    try:
        code = dev.wait(timeout=UI_STOP_GRACE_S if stopping else None)
    except subprocess.TimeoutExpired:
        # measured: in a long-lived machine `dagster dev` has waited minutes on a child
        click.echo(f"dagster dev still running {UI_STOP_GRACE_S} s after the stop: killed")
        os.killpg(dev.pid, signal.SIGKILL)
        code = dev.wait()
    # what dagster dev started in its session and left behind (code servers) goes with it
    with contextlib.suppress(ProcessLookupError):
        os.killpg(dev.pid, signal.SIGKILL)
    if stopping:
        click.echo("Dagster UI and daemon stopped")
        sys.exit(0)
    sys.exit(code)


@main.command("zingg-samples")
@click.option(
    "--recipe",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="defaults to zingg_configs/training/recipe.yaml",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="where match.csv and link.csv go; defaults to zingg_configs/training",
)
def zingg_samples(recipe: Path | None, out: Path | None) -> None:
    """Write the Zingg training samples from their recipe and print the pairs per error type."""
    from sdp.zingg.configs import CONFIG_DIR
    from sdp.zingg.records import LINK_FIELDS, MATCH_FIELDS
    from sdp.zingg.samples import RECIPE, RecipeError, build_samples, load_recipe, write_samples

    try:
        loaded = load_recipe(recipe or RECIPE)
    except RecipeError as exc:
        raise click.ClickException(str(exc)) from exc
    out = out or CONFIG_DIR / "training"
    for model, fields in (("match", MATCH_FIELDS), ("link", LINK_FIELDS)):
        samples = build_samples(model, loaded)
        write_samples(out / f"{model}.csv", samples.rows, fields)
        click.echo(samples.report())
        click.echo(f"  written to {out / f'{model}.csv'}")


if __name__ == "__main__":
    main()
