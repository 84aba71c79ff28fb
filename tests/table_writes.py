"""Finds the table writes in sessionary's source, for tests/test_table_owners.py.

A table's owner is the package whose models module declares it (SQLAlchemy's mappers and their classes'
`__module__`: no hand-kept list). A write is any of:
* SQL text: a string (or f-string) holding `INSERT INTO t`, `UPDATE t SET` or `DELETE FROM t`
  (`INSERT ... ON CONFLICT` is an INSERT INTO);
* SQLAlchemy: `insert(X)`, `update(X)`, `delete(X)` (sqlalchemy's or a dialect's), `insert_for(db, X)`,
  `X.insert()` / `X.update()` / `X.delete()` on a Table;
* the ORM: `db.add(Model(...))`, `db.add_all([...])`, `db.merge(...)`, `db.delete(...)` of a model object,
  and `obj.column = ...` on a model object.

X is resolved through the module's own names as imported (`Session`, `models.Event`), module-level aliases
(`_SESSIONS = cast(Table, Session.__table__)`), a function's local assignments and loop variables over a
literal tuple, parameters' annotations (`session: Session`) and the return annotation of the function a
local came from (`session = sessions.get_session(...)`). A write whose table cannot be told is reported
with table "?". Docstrings are not SQL.
"""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DBSession

import sessionary
from sessionary import db as db_module
from sessionary import models
from sessionary.db import Base

_SQL_WRITE = re.compile(
    r"\b(?:INSERT\s+INTO|DELETE\s+FROM)\s+\"?(\{\?\}|\w+)|\bUPDATE\s+\"?(\{\?\}|\w+)\"?\s+SET\b",
    re.IGNORECASE,
)
_CONSTRUCTORS = {
    sqlalchemy.insert: 0,
    sqlalchemy.update: 0,
    sqlalchemy.delete: 0,
    postgresql.insert: 0,
    sqlite.insert: 0,
    db_module.insert_for: 1,  # insert_for(db, X)
}  # the argument naming the table
_SESSION_METHODS = ("add", "add_all", "merge", "delete")
_UNKNOWN = object()


@dataclass(frozen=True)
class Write:
    """One statement (or ORM call) that writes a table."""

    module: str  # sessionary.x.y
    line: int
    table: str  # "?": a write whose table the scan cannot tell
    how: str


@dataclass(frozen=True)
class _Instance:
    """An object of this class (a model, or the ORM session)."""

    cls: type


@dataclass(frozen=True)
class _Either:
    """A name bound to several known values (a loop over a tuple of models)."""

    values: tuple[Any, ...]


def owners() -> dict[str, str]:
    """Each table with its owning package (`sessionary.sessions` for the `session` table)."""
    assert models.__all__  # every model imported
    found = {}
    for mapper in Base.registry.mappers:
        for table in mapper.tables:
            found[table.name] = package_of(mapper.class_.__module__)
    return found


def package_of(module: str) -> str:
    """The package a module belongs to for ownership: `sessionary.<first part>`."""
    return ".".join(module.split(".")[:2])


def scan_package() -> Iterator[Write]:
    """Every write in every module of sessionary, migrations left out (they alone build the schema)."""
    for info in pkgutil.walk_packages(sessionary.__path__, "sessionary."):
        if info.name.startswith("sessionary.migrations"):
            continue
        module = importlib.import_module(info.name)
        yield from scan(info.name, Path(str(module.__file__)).read_text(), vars(module))


def scan(module: str, source: str, namespace: dict[str, Any]) -> list[Write]:
    """The writes in one module's source; its names are looked up in `namespace` (the module's globals)."""
    scanner = _Scanner(module, namespace)
    scanner.visit(ast.parse(source))
    return scanner.writes


class _Scanner(ast.NodeVisitor):
    """Walks one module, keeping each function's local bindings to resolve the names a write uses."""

    def __init__(self, module: str, namespace: dict[str, Any]) -> None:
        self.module, self.namespace = module, namespace
        self.writes: list[Write] = []
        self.scopes: list[dict[str, list[ast.expr]]] = []  # per function: local name -> what it was bound to
        self.docstrings: set[int] = set()

    # --- scopes ---------------------------------------------------------------------------------------

    def visit_Module(self, node: ast.Module) -> None:
        self._docstring(node)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._docstring(node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._docstring(node)
        self.scopes.append(_locals(node))
        self.generic_visit(node)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _docstring(self, node: ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if (
            node.body
            and isinstance(first := node.body[0], ast.Expr)
            and isinstance(first.value, ast.Constant)
        ):
            self.docstrings.add(id(first.value))

    # --- SQL text -------------------------------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and id(node) not in self.docstrings:
            self._sql(node.value, node.lineno)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                resolved = self.resolve(value.value)
                parts.append(resolved if isinstance(resolved, str) else "{?}")
                self.visit(value.value)
        self._sql("".join(parts), node.lineno)

    def _sql(self, text: str, line: int) -> None:
        for into, updated in _SQL_WRITE.findall(text):
            name = into or updated
            self._add(line, "?" if name == "{?}" else name, "SQL text")

    # --- SQLAlchemy and the ORM -----------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = self.resolve(node.func)
        position = _CONSTRUCTORS.get(func) if _hashable(func) else None
        if position is not None and len(node.args) > position:
            for table in self._tables(node.args[position]):
                self._add(node.lineno, table, f"{getattr(func, '__name__', '?')}()")
            return
        if not isinstance(node.func, ast.Attribute):
            return
        method, receiver = node.func.attr, node.func.value
        if method in ("insert", "update", "delete") and isinstance(self.resolve(receiver), Table):
            for table in self._tables(receiver):
                self._add(node.lineno, table, f"Table.{method}()")
        elif method in _SESSION_METHODS and self._is_db(receiver) and node.args:
            argument = node.args[0]
            items = argument.elts if isinstance(argument, ast.List | ast.Tuple) else [argument]
            for table in [table for item in items for table in self._tables(item)]:
                self._add(node.lineno, table, f"db.{method}()")

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        for target in node.targets:
            self._attribute_write(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.generic_visit(node)
        self._attribute_write(node.target)

    def _attribute_write(self, target: ast.expr) -> None:
        if not isinstance(target, ast.Attribute):
            return
        owner = self.resolve(target.value)
        if isinstance(owner, _Instance) and (table := _table_of(owner.cls)) is not None:
            if target.attr in table.c:
                self._add(target.lineno, table.name, "attribute")

    def _is_db(self, node: ast.expr) -> bool:
        """The ORM session: named `db` (the house name) or so annotated."""
        found = self.resolve(node)
        return (isinstance(node, ast.Name) and node.id == "db") or (
            isinstance(found, _Instance) and issubclass(found.cls, DBSession)
        )

    def _tables(self, node: ast.expr) -> list[str]:
        """The tables an expression names ("?": it cannot be told)."""
        found = self.resolve(node)
        names = []
        for value in found.values if isinstance(found, _Either) else (found,):
            table = _table_of(value.cls if isinstance(value, _Instance) else value)
            names.append(table.name if table is not None else "?")
        return names

    def _add(self, line: int, table: str, how: str) -> None:
        self.writes.append(Write(self.module, line, table, how))

    # --- resolving names ------------------------------------------------------------------------------

    def resolve(self, node: ast.expr, depth: int = 0) -> Any:
        """What an expression stands for, as far as the scan can tell (_UNKNOWN otherwise)."""
        if depth > 10:
            return _UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self._name(node.id, depth)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value, depth + 1)
            if base is _UNKNOWN or isinstance(base, _Instance):
                return _UNKNOWN
            return getattr(base, node.attr, _UNKNOWN)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # Model | None
            sides = [self.resolve(side, depth + 1) for side in (node.left, node.right)]
            return next((side for side in sides if _table_of(side) is not None), _UNKNOWN)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        return _UNKNOWN

    def _name(self, name: str, depth: int) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                values = (self.resolve(bound, depth + 1) for bound in scope[name])
                known = list(dict.fromkeys(v for v in values if v is not _UNKNOWN and _hashable(v)))
                if len(known) > 1:
                    return _Either(tuple(known))
                return known[0] if known else _UNKNOWN
        return self.namespace.get(name, _UNKNOWN)

    def _call(self, node: ast.Call, depth: int) -> Any:
        func = self.resolve(node.func, depth + 1)
        if func is typing.cast and len(node.args) == 2:
            return self.resolve(node.args[1], depth + 1)
        if isinstance(func, type):
            return _Instance(func)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
            model = self.resolve(node.args[0], depth + 1)  # db.get(Model, id)
            return _Instance(model) if _table_of(model) is not None else _UNKNOWN
        returned = _returns(func) if _hashable(func) else None
        return _Instance(returned) if returned is not None else _UNKNOWN


@functools.cache
def _returns(func: Any) -> type | None:
    """The class a function is annotated to return, if it is one."""
    try:
        returned = typing.get_type_hints(func).get("return")
    except Exception:  # not a function, or hints the scan cannot evaluate
        return None
    return returned if isinstance(returned, type) else None


def _locals(node: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, list[ast.expr]]:
    """A function's names and what each is bound to: parameters (as an instance of their annotation),
    assignments, and loop variables over a literal tuple or list."""
    bound: dict[str, list[ast.expr]] = {}
    for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
        if arg.annotation is not None:
            bound.setdefault(arg.arg, []).append(ast.Call(func=arg.annotation, args=[], keywords=[]))
    for child in ast.walk(node):
        for name, values in _bindings(child):
            bound.setdefault(name, []).extend(values)
    return bound


def _bindings(node: ast.AST) -> list[tuple[str, list[ast.expr]]]:
    """The names one statement binds, with the expressions they may stand for."""
    if isinstance(node, ast.Assign):
        return [(target.id, [node.value]) for target in node.targets if isinstance(target, ast.Name)]
    if isinstance(node, ast.AnnAssign | ast.NamedExpr) and isinstance(node.target, ast.Name) and node.value:
        return [(node.target.id, [node.value])]
    if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
        if isinstance(node.iter, ast.Tuple | ast.List):
            return [(node.target.id, list(node.iter.elts))]
    return []


def _table_of(value: Any) -> Table | None:
    """The table a Table, a model class (or the name of a table) stands for."""
    if isinstance(value, Table):
        return value
    table = getattr(value, "__table__", None) if isinstance(value, type) else None
    if isinstance(table, Table):
        return table
    if isinstance(value, str):
        return Base.metadata.tables.get(value)
    return None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
