"""Querysets of a fixed shape whose SQL is compiled once per process and then reused with new parameters.

Django compiles every queryset to SQL anew: select lists, joins, ordering, converters. For a page that runs
the same few queries on every request with other values (the order page: ~0.4–1 ms a query, a third of its
CPU) that work is the same each time. `CompiledQuery` compiles its queryset once with marker values in place
of the arguments, notes where each marker landed among the SQL parameters, and from then on runs that SQL
with the real values, building the same objects (select_related instances, annotations, values_list rows)
through Django's own iterables.

The shape must not depend on the arguments' values (no `if` on them, no `__in` lists, no `icontains`
wrapping); the arguments must be ints or strs that Django passes through unchanged. When a marker is not
found exactly among the parameters, the query is never reused and simply runs through the ORM each time.

It reads the private state of Django's SQLCompiler, so it runs only on the Django release it was verified
with (`VERIFIED_DJANGO`) and while the setting `COMPILED_QUERIES` is on; otherwise every `fetch` is the
plain ORM. Check the tests (tests/organiser_portal/test_compiled_queries.py, and the order, permission and
security tests, which CI runs both ways) before moving `VERIFIED_DJANGO` to a new release.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import django
from django.conf import settings
from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

T = TypeVar("T")

# The Django release (major, minor) whose SQLCompiler internals this module was checked against.
VERIFIED_DJANGO = (5, 2)

# Values an argument never takes: inside the 32-bit integer range (Django turns an out-of-range integer
# lookup into an empty result before any SQL exists), and text no code, slug or email contains.
_INT_MARKER = 2_147_483_000
_STR_MARKER = "\x00compiled-query-argument-{}\x00"


def enabled() -> bool:
    """Whether `fetch` reuses compiled SQL: on the verified Django release and with the setting on.

    Read on every call (two attribute lookups) so that tests can switch it with override_settings.
    """
    return tuple(django.VERSION[:2]) == VERIFIED_DJANGO and getattr(settings, "COMPILED_QUERIES", True)


def _marker(position: int, value: object) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"CompiledQuery arguments are ints or strs, not {type(value).__name__}")
    return _INT_MARKER + position if isinstance(value, int) else _STR_MARKER.format(position)


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet  # built from the markers; only ever cloned, never evaluated itself
    compiler: SQLCompiler  # its compiled state, which Django's iterables read: select, klass_info, col_count …
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (parameter index, argument position)


class CompiledQuery(Generic[T]):
    """`build(*args)` → a queryset; `fetch(*args)` → its rows as a list, compiling the SQL once per process.

    `build` must give the same SQL whatever the arguments (see the module docstring). A related manager's
    queryset (`order.timeline`) is refused: its rows would all point at the object it was first built from.
    """

    def __init__(self, build: Callable[..., QuerySet[Any, T]]) -> None:
        self.build = build
        self._compiled: dict[tuple[type, ...], _Compiled | None] = {}
        self._lock = threading.Lock()

    def fetch(self, *args: int | str) -> list[T]:
        if not enabled():
            return list(self.build(*args))
        kinds = tuple(type(arg) for arg in args)
        if kinds not in self._compiled:
            with self._lock:
                if kinds not in self._compiled:
                    self._compiled[kinds] = self._compile(args)
        compiled = self._compiled[kinds]
        if compiled is None:
            return list(self.build(*args))
        params = list(compiled.params)
        for index, position in compiled.slots:
            params[index] = args[position]
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connections[compiled.queryset.db]  # this thread's: Django's connections are per thread
        compiler.as_sql = lambda *a, **kw: (compiled.sql, tuple(params))  # type: ignore[method-assign]
        queryset = compiled.queryset._chain()  # type: ignore[attr-defined]
        queryset.query.get_compiler = lambda *a, **kw: compiler
        return list(queryset)

    def _compile(self, args: tuple[int | str, ...]) -> _Compiled | None:
        markers = tuple(_marker(position, arg) for position, arg in enumerate(args))
        queryset = self.build(*markers)
        if queryset._known_related_objects:  # type: ignore[attr-defined]
            raise ValueError("CompiledQuery can't reuse a related manager's queryset: filter by the id instead")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        slots = tuple((i, markers.index(p)) for i, p in enumerate(params) if type(p) in (int, str) and p in markers)
        if {position for _, position in slots} != set(range(len(markers))):
            return None  # an argument was transformed on its way into the SQL: let the ORM run it each time
        return _Compiled(queryset, compiler, sql, tuple(params), slots)
