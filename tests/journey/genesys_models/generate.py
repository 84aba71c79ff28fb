"""Writes models.json: every model reachable from the /api/v2 responses sessionary serves, as the official
Genesys JavaScript client declares it, for the wire conformance test (tests/journey/test_wire_conformance.py).

Run it by hand when the client version changes (the test itself needs neither npm nor the network):

    python -m tests.journey.genesys_models.generate            # npm pack NPM_VERSION into a temp dir
    python -m tests.journey.genesys_models.generate --dts PATH  # an index.d.ts already at hand

Sources, each for what it states most precisely:
* `index.d.ts` of the npm package `purecloud-platform-client-v2`: the operations' response models, each
  model's keys, which are required (no `?`), and their shapes (model, `Array<T>`, map, string, number,
  boolean).
* the installed Python client `PureCloudPlatformClientV2` (its models' `swagger_types` and the
  `allowed_values` of their setters): what index.d.ts writes as plain `string` or `number`, namely
  `datetime`, `int` versus `float`, and the values of each enum.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

import PureCloudPlatformClientV2 as G

NPM_PACKAGE = "purecloud-platform-client-v2"
# The newest npm release at the time of writing; the Python client is 269.0.0 (npm has no 269).
NPM_VERSION = "262.0.0"
OUTPUT = Path(__file__).with_name("models.json")
# The operations sessionary serves on /api/v2 (journey.routes and journey.fastpath), and its error body.
OPERATIONS = (
    "getJourneySession",
    "getJourneySessionEvents",
    "getJourneySessionOutcomescores",
    "getExternalcontactsContactJourneySessions",
    "postJourneyDeploymentWebevents",
    "postJourneyDeploymentAppevents",
)
ERROR_MODEL = "ErrorBody"

_INTERFACE = re.compile(r"^\texport interface (\w+) \{ *\n(.*?)^\t\}", re.M | re.S)
_FIELD = re.compile(r'^\t\t"(\w+)"(\??): (.+);$', re.M)
_OPERATION = re.compile(r"^\s+(\w+)\(.*\): Promise<Models\.(\w+)>;$", re.M)


def parse_interfaces(text: str) -> dict[str, list[tuple[str, bool, str]]]:
    """Each `export interface` of index.d.ts: its fields as (key, required, TypeScript type)."""
    models = {}
    for match in _INTERFACE.finditer(text):
        fields = [(key, not optional, kind) for key, optional, kind in _FIELD.findall(match.group(2))]
        models[match.group(1)] = fields
    return models


def parse_type(text: str) -> dict[str, Any]:
    """A TypeScript field type as a descriptor: model, list, map or a primitive."""
    text = text.strip()
    if text.startswith("Array<") and text.endswith(">"):
        return {"kind": "list", "of": parse_type(text[6:-1])}
    found = re.fullmatch(r"\{ \[key: string\]: (.+); \}", text)
    if found:
        return {"kind": "map", "of": parse_type(found.group(1))}
    if text.startswith("Models."):
        return {"kind": "model", "name": text[7:]}
    if text in ("string", "number", "boolean", "object"):
        return {"kind": text}
    raise ValueError(f"unknown TypeScript type {text!r}")


def python_model(name: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The Python client's view of a model: json key -> swagger type, and json key -> enum values."""
    cls = getattr(G, name, None)
    if cls is None:
        return {}, {}
    instance = cls()
    types = {instance.attribute_map[attr]: kind for attr, kind in instance.swagger_types.items()}
    enums = {}
    for attr, key in instance.attribute_map.items():
        values = _allowed_values(getattr(cls, attr, None))
        if values is not None:
            enums[key] = values
    return types, enums


def _allowed_values(prop: object) -> list[str] | None:
    if not isinstance(prop, property) or prop.fset is None:
        return None
    tree = ast.parse(textwrap.dedent(inspect.getsource(prop.fset)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "allowed_values" for t in node.targets
        ):
            values: list[str] = ast.literal_eval(node.value)
            return values
    return None


def refine(kind: dict[str, Any], python_type: str | None, enum: list[str] | None) -> dict[str, Any]:
    """Narrow a TypeScript primitive with what the Python client knows (datetime, int, enum values)."""
    if kind["kind"] == "string" and enum is not None:
        return {"kind": "enum", "values": enum}
    if kind["kind"] == "string" and python_type == "datetime":
        return {"kind": "datetime"}
    if kind["kind"] == "number" and python_type == "int":
        return {"kind": "integer"}
    if kind["kind"] in ("list", "map"):
        inner = python_type[5:-1] if python_type and python_type.startswith("list[") else None
        return {**kind, "of": refine(kind["of"], inner, enum)}
    return kind


def build(text: str) -> dict[str, Any]:
    """The models reachable from the served operations and ErrorBody, with their roots."""
    interfaces = parse_interfaces(text)
    roots = {op: model for op, model in _OPERATION.findall(text) if op in OPERATIONS}
    missing = set(OPERATIONS) - set(roots)
    if missing:
        raise SystemExit(f"index.d.ts has no operation {sorted(missing)}")
    roots["error"] = ERROR_MODEL
    models: dict[str, Any] = {}
    pending = sorted(set(roots.values()))
    while pending:
        name = pending.pop()
        if name in models:
            continue
        models[name] = _model(name, interfaces[name])
        pending += [ref for ref in _refs(models[name]["fields"].values()) if ref not in models]
    return {"roots": dict(sorted(roots.items())), "models": dict(sorted(models.items()))}


def _model(name: str, fields: list[tuple[str, bool, str]]) -> dict[str, Any]:
    python_types, enums = python_model(name)
    extra = sorted(set(python_types) - {key for key, _, _ in fields})
    if extra:
        sys.stderr.write(f"note: {name}: the Python client also declares {extra} (not in index.d.ts)\n")
    return {
        "fields": {
            key: refine(parse_type(kind), python_types.get(key), enums.get(key)) for key, _, kind in fields
        },
        "required": [key for key, required, _ in fields if required],
    }


def _refs(kinds: Any) -> list[str]:
    found = []
    for kind in kinds:
        if kind["kind"] == "model":
            found.append(kind["name"])
        elif kind["kind"] in ("list", "map"):
            found += _refs([kind["of"]])
    return found


def npm_index(version: str, workdir: Path) -> str:
    """index.d.ts of the npm package at this version (`npm pack`, then read it from the tarball)."""
    subprocess.run(["npm", "pack", f"{NPM_PACKAGE}@{version}"], cwd=workdir, check=True, capture_output=True)
    (tarball,) = workdir.glob("*.tgz")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/index.d.ts")
        assert member is not None
        return member.read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dts", type=Path, help="an index.d.ts to read instead of npm pack")
    parser.add_argument("--version", default=NPM_VERSION, help="the npm package version")
    args = parser.parse_args()
    if args.dts:
        text = args.dts.read_text()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            text = npm_index(args.version, Path(tmp))
    result = {
        "source": {
            "npm": f"{NPM_PACKAGE}@{args.version}",
            "python": f"PureCloudPlatformClientV2@{installed_version('PureCloudPlatformClientV2')}",
        },
        **build(text),
    }
    OUTPUT.write_text(json.dumps(result, indent=1) + "\n")
    sys.stderr.write(f"wrote {OUTPUT} ({len(result['models'])} models)\n")


if __name__ == "__main__":
    main()
