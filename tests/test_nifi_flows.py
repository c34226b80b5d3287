"""The NiFi flow definitions in nifi_templates/ hold together the way NiFi needs to import them.

Structure only, no NiFi: every file parses; identifiers are unique; connections join components
that exist; controller-service references and `#{parameters}` resolve; every relationship is
routed; and each source's flow validates its contract entities, writes the data file, then the
manifest, then publishes one `batch.landed` event to `landing-events`.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from documents import strings

from sdp.events import ENVELOPE_FIELDS
from sdp.landing import MANIFEST_FIELDS, read_manifest

REPO = Path(__file__).resolve().parent.parent
FLOWS = sorted((REPO / "nifi_templates").glob("*.json"))
CONTRACT = yaml.safe_load((REPO / "sdp" / "contracts" / "sources.yaml").read_text("utf-8"))

PARAMETER = re.compile(r"(?<!#)#\{'?([^}']+)'?\}")
UUID_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
COMPONENT_KEYS = (
    "processors",
    "connections",
    "controllerServices",
    "inputPorts",
    "outputPorts",
    "funnels",
    "labels",
    "remoteProcessGroups",
)
ENDPOINTS = {
    "PROCESSOR": "processors",
    "FUNNEL": "funnels",
    "INPUT_PORT": "inputPorts",
    "OUTPUT_PORT": "outputPorts",
}
# what a child group exposes to its parent's connections
CHILD_ENDPOINT = {"source": "OUTPUT_PORT", "destination": "INPUT_PORT"}
# the fixed relationships of the processors the flows use (RouteOnAttribute adds one per route)
RELATIONSHIPS = {
    "ListFile": {"success"},
    "FetchFile": {"success", "not.found", "permission.denied", "failure"},
    "UpdateAttribute": {"success"},
    "RouteOnAttribute": {"unmatched"},
    "ValidateRecord": {"valid", "invalid", "failure"},
    "CryptographicHashContent": {"success", "failure"},
    "PutFile": {"success", "failure"},
    "ReplaceText": {"success", "failure"},
    "AttributesToJSON": {"success", "failure"},
    "PartitionRecord": {"success", "original", "failure"},
    "MergeRecord": {"merged", "original", "failure"},
    "ConsumeKafka": {"success", "parse failure"},
    "PublishKafka": {"success", "failure"},
}


# -- the checker -----------------------------------------------------------------------------


def groups(flow: dict) -> Iterator[tuple[dict, list[dict]]]:
    """Every process group, outermost first, with its ancestors (nearest last)."""

    def walk(group: dict, ancestors: list[dict]) -> Iterator[tuple[dict, list[dict]]]:
        yield group, ancestors
        for child in group.get("processGroups", []):
            yield from walk(child, [*ancestors, group])

    yield from walk(flow["flowContents"], [])


def short(kind: str) -> str:
    return kind.rsplit(".", 1)[-1]


def duplicate_identifiers(flow: dict) -> list[str]:
    seen = Counter()
    for group, _ in groups(flow):
        seen[group["identifier"]] += 1
        for key in COMPONENT_KEYS:
            seen.update(component["identifier"] for component in group.get(key, []))
    return [f"identifier {i} is used {n} times" for i, n in seen.items() if n > 1]


def dangling_connection_ends(flow: dict) -> list[str]:
    """Ends must be in the connection's group, or be a port of one of its child groups."""
    problems = []
    for group, _ in groups(flow):
        children = {child["identifier"]: child for child in group.get("processGroups", [])}
        for connection in group.get("connections", []):
            if connection.get("groupIdentifier", group["identifier"]) != group["identifier"]:
                problems.append(f"connection {connection['identifier']} names another group")
            for side in ("source", "destination"):
                end = connection[side]
                where = f"{group['name']}: connection {connection['identifier']} {side}"
                if end["groupId"] == group["identifier"]:
                    owner = group
                elif end["groupId"] in children and end["type"] == CHILD_ENDPOINT[side]:
                    owner = children[end["groupId"]]
                else:
                    problems.append(f"{where} is in group {end['groupId']}, out of reach")
                    continue
                ids = {c["identifier"] for c in owner.get(ENDPOINTS.get(end["type"], ""), [])}
                if end["id"] not in ids:
                    problems.append(f"{where} {end['type']} {end['id']} does not exist")
    return problems


def unknown_service_references(flow: dict) -> list[str]:
    """A property that names a controller service must name one in this group or above."""
    external = set(flow.get("externalControllerServices") or {})
    problems = []
    for group, ancestors in groups(flow):
        in_scope = external | {
            service["identifier"]
            for g in [*ancestors, group]
            for service in g.get("controllerServices", [])
        }
        for component in [*group.get("processors", []), *group.get("controllerServices", [])]:
            descriptors = component.get("propertyDescriptors") or {}
            for name, value in (component.get("properties") or {}).items():
                names_service = descriptors.get(name, {}).get("identifiesControllerService")
                looks_like_one = isinstance(value, str) and UUID_SHAPE.match(value)
                if (names_service or looks_like_one) and value and value not in in_scope:
                    problems.append(f"{component['name']}.{name} -> unknown service {value}")
    return problems


def parameters_of(flow: dict, context: str | None) -> dict[str, dict]:
    """A context's parameters, inherited ones included (its own win, then the first listed)."""
    body = flow["parameterContexts"].get(context) if context else None
    if body is None:
        return {}
    found: dict[str, dict] = {}
    for parent in reversed(body.get("inheritedParameterContexts") or []):
        found.update(parameters_of(flow, parent))
    found.update({p["name"]: p for p in body.get("parameters", [])})
    return found


def undefined_parameters(flow: dict) -> list[str]:
    problems = []
    for group, _ in groups(flow):
        defined = parameters_of(flow, group.get("parameterContextName"))
        own = {k: v for k, v in group.items() if k != "processGroups"}
        for text in strings(own):
            for name in PARAMETER.findall(text):
                if name not in defined:
                    problems.append(f"{group['name']}: #{{{name}}} is not a defined parameter")
    return problems


def all_problems(flow: dict) -> list[str]:
    return (
        duplicate_identifiers(flow)
        + dangling_connection_ends(flow)
        + unknown_service_references(flow)
        + undefined_parameters(flow)
    )


# -- helpers for the behaviour of a flow -----------------------------------------------------


def processors(flow: dict) -> Iterator[dict]:
    for group, _ in groups(flow):
        yield from group.get("processors", [])


def of_type(flow: dict, kind: str) -> list[dict]:
    return [p for p in processors(flow) if short(p["type"]) == kind]


def services_of_type(flow: dict, kind: str) -> list[dict]:
    return [s for g, _ in groups(flow) for s in g["controllerServices"] if short(s["type"]) == kind]


def dynamic(component: dict) -> list[str]:
    return [n for n, d in (component.get("propertyDescriptors") or {}).items() if d.get("dynamic")]


def resolve(flow: dict, text: str) -> str:
    values = parameters_of(flow, flow["flowContents"].get("parameterContextName"))
    return PARAMETER.sub(lambda m: values[m.group(1)]["value"] or "", text)


def downstream(flow: dict, start: str) -> set[str]:
    """Identifiers reachable from `start` along connections, across groups and ports."""
    successors: dict[str, set[str]] = {}
    for group, _ in groups(flow):
        for connection in group["connections"]:
            successors.setdefault(connection["source"]["id"], set()).add(
                connection["destination"]["id"]
            )
    # ports chain naturally: a connection into a child's port, then one out of it
    seen, todo = set(), [start]
    while todo:
        for nxt in successors.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def render(template: str, attributes: dict[str, str]) -> str:
    """Enough of NiFi's expression language for the manifest and event templates."""

    def value(match: re.Match) -> str:
        text = attributes[match.group(1)]
        if match.group(2) is not None:
            text = text[int(match.group(2)) : int(match.group(3))]
        return text

    rendered = re.sub(
        r"\$\{'?([A-Za-z0-9_.-]+)'?(?::substring\((\d+), *(\d+)\))?\}", value, template
    )
    assert "${" not in rendered, f"unsupported expression in {template!r}"
    return rendered


# -- the tests -------------------------------------------------------------------------------


@pytest.fixture(params=FLOWS, ids=lambda path: path.stem)
def flow_file(request) -> Path:
    return request.param


@pytest.fixture
def flow(flow_file: Path) -> dict:
    return json.loads(flow_file.read_text("utf-8"))


def test_every_contract_source_has_a_flow_and_every_flow_a_source():
    assert sorted(p.stem for p in FLOWS) == sorted(CONTRACT["sources"])


def test_flow_is_a_downloaded_flow_definition(flow_file: Path):
    flow = json.loads(flow_file.read_text("utf-8"))
    assert {"flowContents", "parameterContexts", "externalControllerServices"} <= set(flow)
    assert flow["flowEncodingVersion"] == "1.0"
    assert flow["flowContents"]["componentType"] == "PROCESS_GROUP"
    assert flow["flowContents"]["parameterContextName"] in flow["parameterContexts"]


def test_identifiers_are_unique_uuids_across_nested_groups(flow: dict):
    assert duplicate_identifiers(flow) == []
    for group, _ in groups(flow):
        for key in COMPONENT_KEYS:
            for component in group.get(key, []):
                assert UUID_SHAPE.match(component["identifier"]), component["identifier"]
                assert component.get("groupIdentifier") == group["identifier"]


def test_every_connection_joins_components_that_exist(flow: dict):
    assert dangling_connection_ends(flow) == []


def test_every_service_reference_names_a_service_in_scope(flow: dict):
    assert unknown_service_references(flow) == []


def test_every_parameter_used_is_defined_in_the_flows_context(flow: dict):
    assert undefined_parameters(flow) == []


def test_sensitive_properties_reference_only_sensitive_parameters(flow: dict):
    for group, _ in groups(flow):
        defined = parameters_of(flow, group.get("parameterContextName"))
        for component in [*group["processors"], *group["controllerServices"]]:
            descriptors = component.get("propertyDescriptors") or {}
            for name, value in (component.get("properties") or {}).items():
                sensitive = descriptors.get(name, {}).get("sensitive", False)
                for used in PARAMETER.findall(value or ""):
                    assert defined[used]["sensitive"] == sensitive, f"{component['name']}.{name}"
                if sensitive and value is not None:
                    assert PARAMETER.fullmatch(value), f"{component['name']}.{name} is literal"
                    assert defined[PARAMETER.fullmatch(value).group(1)]["value"] is None


def test_every_relationship_is_routed_or_auto_terminated(flow: dict):
    for group, _ in groups(flow):
        for processor in group["processors"]:
            kind = short(processor["type"])
            assert kind in RELATIONSHIPS, f"add the relationships of {kind} to RELATIONSHIPS"
            expected = set(RELATIONSHIPS[kind])
            if kind == "RouteOnAttribute":
                expected |= set(dynamic(processor))
            routed = {
                relationship
                for connection in group["connections"]
                if connection["source"]["id"] == processor["identifier"]
                for relationship in connection["selectedRelationships"]
            }
            terminated = set(processor["autoTerminatedRelationships"])
            assert routed | terminated == expected, processor["name"]
            assert not routed & terminated, processor["name"]


def test_contract_schemas_follow_the_contract_columns(flow_file: Path, flow: dict):
    entities = CONTRACT["sources"][flow_file.stem]
    (registry,) = services_of_type(flow, "AvroSchemaRegistry")
    assert sorted(dynamic(registry)) == sorted(entities)
    for entity, spec in entities.items():
        schema = json.loads(registry["properties"][entity])
        assert schema["name"] == entity
        assert [f["name"] for f in schema["fields"]] == list(spec["columns"])
        for field in schema["fields"]:
            column = spec["columns"][field["name"]]
            nullable = isinstance(field["type"], list) and "null" in field["type"]
            assert nullable != bool(column.get("required")), f"{entity}.{field['name']}"
            if column["type"] == "enum":
                options = field["type"] if nullable else [field["type"]]
                (enum,) = [t for t in options if t != "null"]
                assert enum["symbols"] == column["values"], f"{entity}.{field['name']}"


def test_every_contract_entity_is_routed_to_its_own_validation(flow_file: Path, flow: dict):
    (route,) = of_type(flow, "RouteOnAttribute")
    validators = {p["identifier"]: p for p in of_type(flow, "ValidateRecord")}
    for entity in CONTRACT["sources"][flow_file.stem]:
        routes = [r for r in dynamic(route) if r.split(".")[0] == entity]
        assert routes, f"no route for {entity}"
        for name in routes:
            targets = [
                c["destination"]["id"]
                for g, _ in groups(flow)
                for c in g["connections"]
                if c["source"]["id"] == route["identifier"] and name in c["selectedRelationships"]
            ]
            assert [t for t in targets if t in validators], f"route {name} validates nothing"


def test_flow_writes_data_then_manifest_then_publishes_to_landing_events(flow: dict):
    (name_manifest,) = [
        p
        for p in of_type(flow, "UpdateAttribute")
        if (p["properties"].get("filename") or "").endswith(".manifest.json")
    ]
    after_naming = downstream(flow, name_manifest["identifier"])
    puts = of_type(flow, "PutFile")
    (data,) = [p for p in puts if name_manifest["identifier"] in downstream(flow, p["identifier"])]
    (manifest,) = [p for p in puts if p["identifier"] in after_naming]
    (publish,) = of_type(flow, "PublishKafka")
    assert resolve(flow, publish["properties"]["Topic Name"]) == "landing-events"
    assert publish["identifier"] in downstream(flow, manifest["identifier"])
    assert data["identifier"] not in downstream(flow, manifest["identifier"])
    assert publish["properties"]["Kafka Key"] == "${batch_id}"


def test_rendered_manifest_and_event_are_what_the_loader_reads(flow: dict, tmp_path: Path):
    texts = [p["properties"] for p in of_type(flow, "ReplaceText")]
    (manifest_template,) = [t["Replacement Value"] for t in texts if "Replacement Value" in t]
    (event,) = [t for t in texts if t.get("Replacement Strategy") == "Surround"]
    attributes = {
        "batch_id": "crm-customers-20240501",
        "source": "crm",
        "entity": "customers",
        "partition_date": "2024-05-01",
        "data.file": "crm-customers-20240501.csv",
        "record.count": "42",
        "content_SHA-256": "ab" * 32,
        "schema_version": "1",
        "landed_at": "2024-05-01T06:00:00.000Z",
    }
    manifest_text = render(manifest_template, attributes)
    path = tmp_path / "crm-customers-20240501.manifest.json"
    path.write_text(manifest_text, encoding="utf-8")
    landed = read_manifest(path)
    assert (landed.rows, landed.sha256, landed.file) == (42, "ab" * 32, attributes["data.file"])
    assert list(json.loads(manifest_text)) == list(MANIFEST_FIELDS)

    envelope = json.loads(
        render(event["Text to Prepend"], attributes)
        + manifest_text
        + render(event["Text to Append"], attributes)
    )
    assert tuple(envelope) == ENVELOPE_FIELDS
    assert envelope["event_type"] == "batch.landed"
    assert envelope["schema_version"] == 1
    assert envelope["payload"] == json.loads(manifest_text)


# -- the checker catches what it should ------------------------------------------------------


@pytest.fixture
def sample() -> dict:
    flow = json.loads(FLOWS[0].read_text("utf-8"))
    assert all_problems(flow) == []
    return copy.deepcopy(flow)


def test_checker_reports_a_connection_to_a_missing_component(sample: dict):
    connection = sample["flowContents"]["connections"][0]
    connection["destination"]["id"] = str(uuid.uuid4())
    found = dangling_connection_ends(sample)
    assert len(found) == 1 and "does not exist" in found[0]


def test_checker_reports_a_connection_to_a_component_of_another_group(sample: dict):
    connection = sample["flowContents"]["connections"][0]
    connection["source"]["groupId"] = str(uuid.uuid4())
    assert len(dangling_connection_ends(sample)) == 1


def test_checker_reports_an_undefined_parameter(sample: dict):
    processor = sample["flowContents"]["processors"][0]
    processor["properties"]["Input Directory"] = "#{no_such_parameter}/in"
    found = undefined_parameters(sample)
    assert len(found) == 1 and "no_such_parameter" in found[0]


def test_checker_reports_a_reference_to_a_missing_service(sample: dict):
    (publish,) = of_type(sample, "PublishKafka")
    publish["properties"]["Kafka Connection Service"] = str(uuid.uuid4())
    assert len(unknown_service_references(sample)) == 1


def test_checker_reports_a_duplicate_identifier(sample: dict):
    listed = sample["flowContents"]["processors"]
    listed[1]["identifier"] = listed[0]["identifier"]
    assert len(duplicate_identifiers(sample)) == 1
