"""ARCHITECTURE.md cannot drift from the tree: every module, table, column and setting it names exists, and
every package under src/sessionary has a row in its Domains table.

What counts as a name (all inside backticks, except settings):
* a module path: `x/y.py` (from src/sessionary, else from the repository root), a bare `y.py` (some module
  of that name), a directory `x/` or `x/y/`; `x/y.py::name` also needs `name` in that module;
* a dotted name `m.name...` whose first part is a module of sessionary (`ingest.service.ingest_events`,
  `gate.Gate`, `sessionary.db`): the attributes must resolve; `table.column` (first part a table): the
  column must exist;
* a table: a snake_case name in backticks right before the word table(s) or row(s), or right after the
  word table(s) or into (the `server_secret` table, an FTS5 table `transcript_fts`, inserted into
  `server_secret`); it must be a table of the models (or the search index's FTS5 table or view);
* a setting: any SESSIONARY_* word (a Settings field, or a variable the test suite reads).

The table of owners ("## Tables and their owners") must give each table of the models the package that
declares it (the owner tests/test_table_owners.py holds writes to).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

import sessionary
from sessionary import models
from sessionary.config import Settings
from sessionary.db import Base
from sessionary.search import models as search_objects
from tests.table_writes import owners

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "sessionary"
DOC = ROOT / "ARCHITECTURE.md"

_CODE = re.compile(r"`([^`\n]+)`")
_PATH = re.compile(r"^((?:[\w.]+/)*[\w]+\.py)(?:::(\w+))?$")
_DIR = re.compile(r"^(?:\w+/)+$")
_DOTTED = re.compile(r"^([a-z_]\w*(?:\.\w+)+)(?:\(.*\))?$")
_TABLE = re.compile(
    r"`([a-z]+(?:_[a-z0-9]+)*)` (?=(?:tables?|rows?)\b)|(?:\btables?|\binto) `([a-z]+(?:_[a-z0-9]+)*)`"
)
_SETTING = re.compile(r"\bSESSIONARY_[A-Z0-9_]*[A-Z0-9]\b")
_DOMAIN_ROW = re.compile(r"^\| `(\w+)/` \|", re.MULTILINE)


def _spans(text: str) -> list[str]:
    """Everything the text puts in backticks."""
    return _CODE.findall(text)


@cache
def _modules() -> dict[str, ModuleType]:
    """Every module of sessionary by dotted name (without the `sessionary.` prefix), migrations left out."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.walk_packages(sessionary.__path__, "sessionary."):
        if ".migrations" in info.name:
            continue
        found[info.name.removeprefix("sessionary.")] = importlib.import_module(info.name)
    return found


def _tables() -> dict[str, set[str]]:
    """Each table (and the search index's FTS5 table and view, which have no ORM class) with its columns."""
    assert models.__all__  # every ORM class imported, so Base.metadata holds every table
    tables = {name: {c.name for c in table.columns} for name, table in Base.metadata.tables.items()}
    tables["event"].add(search_objects.VECTOR_COLUMN)
    return tables | {search_objects.FTS_TABLE: {"rowid"}, search_objects.TEXT_VIEW: {"id"}}


def _resolves(module: ModuleType, attributes: list[str]) -> bool:
    value: object = module
    for attribute in attributes:
        if not hasattr(value, attribute):
            return False
        value = getattr(value, attribute)
    return True


def missing_paths(text: str) -> list[str]:
    """Module paths and directories named that do not exist (or lack the `::name` they point at)."""
    missing = []
    for span in _spans(text):
        if (match := _PATH.match(span)) is not None:
            path, name = match.groups()
            if "/" in path:
                found = [p for p in (SRC / path, ROOT / path) if p.is_file()]
            else:
                found = sorted(SRC.rglob(path)) + sorted(ROOT.glob(f"*/{path}"))
            if not found or (name is not None and not re.search(rf"\b{name}\b", found[0].read_text())):
                missing.append(span)
        elif _DIR.match(span) and not any(
            (base / span).is_dir() for base in (SRC, ROOT, *(p for p in SRC.iterdir() if p.is_dir()))
        ):
            missing.append(span)
    return missing


def missing_dotted(text: str) -> list[str]:
    """Dotted names whose first part is a sessionary module (or a table) that do not resolve."""
    modules, tables = _modules(), _tables()
    missing = []
    for span in _spans(text):
        if _PATH.match(span) or (match := _DOTTED.match(span)) is None:
            continue
        parts = match.group(1).removeprefix("sessionary.").split(".")
        if parts[0] in tables and len(parts) == 2:
            if parts[1] not in tables[parts[0]]:
                missing.append(span)
            continue
        if not _dotted_resolves(parts, modules):
            missing.append(span)
    return missing


def _dotted_resolves(parts: list[str], modules: dict[str, ModuleType]) -> bool:
    """True when the name resolves, or when its first part names no module at all (not a module path)."""
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in modules:
            return _resolves(modules[head], parts[cut:])
    # A module named by its last part only (`rollup.record_rollups`, `service.render_snippet`), or a
    # domain standing for its service, as the code imports it (`conversations.ensure_conversations`).
    named = [m for name, m in modules.items() if name.rsplit(".", 1)[-1] == parts[0]]
    named += [m for name, m in modules.items() if name == f"{parts[0]}.service"]
    if not named:
        return parts[0] != "sessionary"
    return any(_resolves(m, parts[1:]) for m in named)


def missing_tables(text: str) -> list[str]:
    tables = _tables()
    named = {a or b for a, b in _TABLE.findall(text)}
    return sorted(named - set(tables))


def missing_settings(text: str) -> list[str]:
    known = {f"SESSIONARY_{name.upper()}" for name in Settings.model_fields}
    known |= set(_SETTING.findall((ROOT / "tests" / "conftest.py").read_text()))  # the test suite's own
    return sorted(set(_SETTING.findall(text)) - known)


def undescribed_packages(text: str) -> list[str]:
    described = set(_DOMAIN_ROW.findall(text.split("## Domains", 1)[1].split("\n## ", 1)[0]))
    packages = {p.parent.name for p in SRC.glob("*/__init__.py")}
    return sorted(packages - described)


def owners_in(text: str) -> dict[str, str]:
    """Each table the doc's table of owners names (backticked, second column), with the row's package."""
    section = text.split("## Tables and their owners", 1)[1].split("\n## ", 1)[0]
    found: dict[str, str] = {}
    for package, tables in _OWNER_ROW.findall(section):
        for table in _CODE.findall(tables):
            found[table] = f"sessionary.{package}"
    return found


_OWNER_ROW = re.compile(r"^\| `(\w+)/` \| ([^|]*) \|", re.MULTILINE)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text()


def test_every_module_path_it_names_exists(doc: str) -> None:
    assert missing_paths(doc) == []


def test_every_dotted_name_it_names_resolves(doc: str) -> None:
    assert missing_dotted(doc) == []


def test_every_table_it_names_exists(doc: str) -> None:
    assert missing_tables(doc) == []


def test_every_setting_it_names_exists(doc: str) -> None:
    assert missing_settings(doc) == []


def test_every_package_has_a_row_in_the_domains_table(doc: str) -> None:
    assert undescribed_packages(doc) == []


def test_the_table_of_owners_gives_each_table_the_package_that_declares_it(doc: str) -> None:
    assert owners_in(doc) == owners()


def test_a_planted_error_of_each_kind_is_caught(doc: str) -> None:
    assert missing_paths("`json_route.py`, `ingest/nothing.py`, `recordings/routes.py::nothing`") == [
        "json_route.py",
        "ingest/nothing.py",
        "recordings/routes.py::nothing",
    ]
    assert missing_dotted("`ingest.service.nothing`, `event.nothing`, `rollup.record_latency_rollups`") == [
        "ingest.service.nothing",
        "event.nothing",
        "rollup.record_latency_rollups",
    ]
    assert missing_tables("the `console_secret` table, into `journey_visit`, the `event` table") == [
        "console_secret",
        "journey_visit",
    ]
    assert missing_settings("SESSIONARY_NO_SUCH_SETTING and SESSIONARY_DATABASE_URL") == [
        "SESSIONARY_NO_SUCH_SETTING"
    ]
    without_search = re.sub(r"^\| `search/` .*\n", "", doc, flags=re.MULTILINE)
    assert undescribed_packages(without_search) == ["search"]
    moved = doc.replace("| `labels/` | `session_label` |", "| `labels/` | |").replace(
        "| `sessions/` | `session` |", "| `sessions/` | `session`, `session_label` |"
    )
    assert owners_in(moved)["session_label"] == "sessionary.sessions" != owners()["session_label"]
