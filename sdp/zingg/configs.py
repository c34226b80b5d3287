"""Zingg configurations: the shipped field definitions plus this installation's locations.

`zingg_configs/<model>.json` holds what a data engineer tunes (fields, match types, sampling);
the effective configuration written under `$SDP_HOME/zingg/conf` adds the input exports, the
training samples, the model directory and the output, all under `$SDP_HOME`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sdp.settings import Settings
from sdp.zingg.passes import BlockingPass, PassError, original_id, parse_passes

CONFIG_DIR = Path(__file__).resolve().parents[2] / "zingg_configs"
MODELS = ("match", "link")


class ZinggConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ZinggModel:
    name: str  # "match" (CRM dedupe) or "link" (CRM <-> billing)
    template: dict  # what Zingg reads
    samples: Path
    # the platform's acceptance floor: a record whose best Zingg score is lower stays alone
    min_score: float
    # a score this close to the floor (either side) is doubtful: listed for a reviewer
    review_margin: float
    # the keys a record is blocked on, one copy of it per key (none: Zingg's tree alone)
    passes: tuple[BlockingPass, ...] = ()
    # the fields that name a person: namesakes of the true pairs are trained as false pairs
    names: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f["fieldName"] for f in self.template["fieldDefinition"])

    def fingerprint(self, *extra_samples: Path | None) -> str:
        """Changes when the configuration or the training samples change: time to retrain."""
        digest = hashlib.sha256(json.dumps(self.template, sort_keys=True).encode())
        digest.update(self.samples.read_bytes())
        for extra in extra_samples:
            if extra is not None and extra.exists():
                digest.update(extra.read_bytes())
        return digest.hexdigest()[:16]

    def original(self, zingg_id: str) -> str:
        """The id of the record whose copy Zingg saw (itself when the model has no passes)."""
        return original_id(zingg_id) if self.passes else zingg_id

    def accepts(self, score: float | None) -> bool:
        """Zingg's decision stands unless its score is known and under the floor."""
        return score is None or score >= self.min_score

    def doubtful(self, score: float | None) -> bool:
        return score is not None and abs(score - self.min_score) < self.review_margin


def load_model(name: str, config_dir: Path = CONFIG_DIR) -> ZinggModel:
    if name not in MODELS:
        raise ZinggConfigError(f"unknown Zingg model {name!r}: one of {', '.join(MODELS)}")
    path = config_dir / f"{name}.json"
    try:
        template = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ZinggConfigError(f"{path}: {exc}") from exc
    for key in ("modelId", "fieldDefinition"):
        if key not in template:
            raise ZinggConfigError(f"{path}: missing {key!r}")
    platform = template.pop("platform", {})
    min_score = platform.get("minScore", 0.5)
    review_margin = platform.get("reviewMargin", 0.15)
    for key, value in (("minScore", min_score), ("reviewMargin", review_margin)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ZinggConfigError(f"{path}: platform.{key} {value!r} is not within 0..1")
    fields = [f.get("fieldName") for f in template["fieldDefinition"]]
    if "record_id" not in fields:
        raise ZinggConfigError(f"{path}: a record_id field (DONT_USE) must carry the key")
    try:
        passes = parse_passes(platform.get("blockingPasses"), tuple(fields), str(path))
    except PassError as exc:
        raise ZinggConfigError(str(exc)) from exc
    names = platform.get("namesakeFields", [])
    if not isinstance(names, list) or not set(names) <= set(fields) - {"record_id"}:
        raise ZinggConfigError(f"{path}: platform.namesakeFields {names!r} are not match fields")
    samples = config_dir / "training" / f"{name}.csv"
    if not samples.exists():
        raise ZinggConfigError(f"{samples}: labelled training samples are missing")
    return ZinggModel(
        name, template, samples, float(min_score), float(review_margin), passes, tuple(names)
    )


def _schema(fields: tuple[str, ...]) -> str:
    return ", ".join(f"{f} string" for f in fields)


def _csv_pipe(name: str, location: Path, fields: tuple[str, ...]) -> dict:
    return {
        "name": name,
        "format": "csv",
        "props": {"location": str(location), "delimiter": ",", "header": "true"},
        "schema": _schema(fields),
    }


def effective_config(
    model: ZinggModel, settings: Settings, inputs: dict[str, Path], samples: list[Path]
) -> Path:
    """Write the configuration Zingg runs with; returns its path."""
    work = settings.home / "zingg"
    sample_fields = ("z_cluster", "z_isMatch", *model.fields)
    config = {
        **model.template,
        "zinggDir": str(work / "models"),
        "data": [_csv_pipe(name, path, model.fields) for name, path in inputs.items()],
        "output": [
            {
                "name": f"{model.name}_output",
                "format": "csv",
                "props": {
                    "location": str(work / "output" / model.name),
                    "delimiter": ",",
                    "header": "true",
                },
            }
        ],
        "trainingSamples": [
            {
                "name": f"{model.name}_samples_{i}",
                "format": "csv",
                "props": {"location": str(path), "delimiter": ",", "header": "true"},
                "schema": _schema(sample_fields).replace("z_isMatch string", "z_isMatch integer"),
            }
            for i, path in enumerate(samples)
        ],
    }
    path = work / "conf" / f"{model.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))
    return path
