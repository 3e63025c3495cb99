"""The shapes of the JSON records in version, attribute and run commits, checked on every read.

``artifact.json`` (a version's immutable facts), ``v<N>.json`` (its mutable
attributes) and ``run.json`` (a run record) arrive from other repositories
and remotes like everything else, so a reader checks each field it relies
on before use: a missing or mistyped one is a :class:`CorruptObjectError`
naming the document, the field and the rule, never a ``KeyError`` or
``TypeError`` somewhere later. Fields a reader does not know are ignored
(artvcs-format(5), COMPATIBILITY).
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from .documents import expect, expect_object, load_json, short
from .errors import CorruptObjectError
from .names import MAX_NAME, NAME_RE

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
KINDS = ("version", "link")
NUMBER = (int, float)


def _name(doc: dict, key: str, what: str) -> str:
    value = expect(doc, key, str, what)
    if not NAME_RE.match(value) or len(value) > MAX_NAME or value in (".", ".."):
        raise CorruptObjectError(f"{what}: {key} {short(value)} breaks the name rules (1-{MAX_NAME} letters, digits, '_', '.', '-')")
    return value


def _count(doc: dict, key: str, what: str, optional: bool = False) -> int | None:
    value = expect(doc, key, int, what, optional=optional)
    if value is not None and value < 0:
        raise CorruptObjectError(f"{what}: field {key!r} is {value}, not a non-negative integer")
    return value


def _time(doc: dict, key: str, what: str, optional: bool = False) -> str | None:
    value = expect(doc, key, (str, type(None)) if optional else str, what, optional=optional)
    if value is not None:
        try:
            if not _TIME.match(value):
                raise ValueError
            real_time(value)
        except ValueError:
            raise CorruptObjectError(f"{what}: field {key!r} is {short(value)}, not a time like 2026-11-02T09:15:30.123456Z") from None
    return value


def real_time(value: str) -> None:
    """ValueError unless ``value``, of :data:`_TIME`'s shape, is a real moment (:func:`time_of`)."""
    time_of(value)


def time_of(value: str) -> _dt.datetime:
    """``datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")`` (naive, UTC by artvcs's convention),
    the same value or ValueError, without loading _strptime where the text is the stored shape
    (calendar, locale and a regex built on first use: a few ms of every command reading a version)."""
    if len(value) != 27 or not value.isascii() or not _TIME.match(value):  # other digits, other shapes: strptime's rules
        return _dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    return _dt.datetime(int(value[0:4]), int(value[5:7]), int(value[8:10]), int(value[11:13]), int(value[14:16]),
                        int(value[17:19]), int(value[20:26]))


def check_attrs(attrs: Any, what: str) -> dict[str, Any]:
    """The attributes object (``attrs`` of artifact.json, or a ``v<N>.json``), its known fields typed."""
    attrs = expect_object(attrs, what)
    expect(attrs, "description", (str, type(None)), what, optional=True)
    expect(attrs, "metadata", dict, what, optional=True)
    ttl = expect(attrs, "ttl", (int, float, str, type(None)), what, optional=True)
    if isinstance(ttl, str) and ttl != "inherit":
        raise CorruptObjectError(f"{what}: field 'ttl' is {short(ttl)}: a number of seconds, null or \"inherit\"")
    for key in ("tags", "aliases"):
        items = expect(attrs, key, list, what, optional=True)
        if items is not None and not all(isinstance(t, str) for t in items):
            raise CorruptObjectError(f"{what}: field {key!r} must be an array of strings")
    _time(attrs, "updated_at", what, optional=True)
    _time(attrs, "deleted_at", what, optional=True)
    return attrs


def check_facts_shape(facts: Any, what: str, newest_format: int) -> dict[str, Any]:
    """``facts`` (a parsed artifact.json) if every field artvcs reads has its documented type."""
    facts = expect_object(facts, what)
    fmt = expect(facts, "format", int, what, optional=True)
    if fmt is not None and fmt > newest_format:
        raise CorruptObjectError(f"{what} is in format {fmt}, newer than this artvcs ({newest_format}): upgrade artvcs")
    kind = expect(facts, "kind", str, what, optional=True) or "version"
    if kind not in KINDS:
        raise CorruptObjectError(f"{what}: field 'kind' is {short(kind)}, not \"version\" or \"link\"")
    for key in ("entity", "project", "name"):
        _name(facts, key, what)
    _count(facts, "version", what)
    expect(facts, "type", str, what)
    _time(facts, "created_at", what)
    expect(facts, "digest", str, what)
    _count(facts, "size", what)
    _count(facts, "file_count", what)
    if kind == "link":
        source = expect(facts, "source", dict, what)
        src = f"{what} (source)"
        if not _COMMIT.match(expect(source, "commit", str, src)):
            raise CorruptObjectError(f"{src}: field 'commit' is {short(source['commit'])}, not a 40-hex commit id")
        for key in ("entity", "project", "name"):
            expect(source, key, str, src, optional=True)
        _count(source, "version", src, optional=True)
    else:
        run = expect(facts, "run", (dict, type(None)), what, optional=True)
        if run is not None:
            for key in ("entity", "project", "id"):
                expect(run, key, str, f"{what} (run)")
        if "attrs" in facts:
            check_attrs(facts["attrs"], f"{what} (attrs)")
    return facts


def parse_facts(data: bytes, what: str, newest_format: int) -> dict[str, Any]:
    """Parse and check an artifact.json document."""
    return check_facts_shape(load_json(data, what), what, newest_format)


def parse_attrs(data: bytes, what: str) -> dict[str, Any]:
    """Parse and check a ``v<N>.json`` attributes document."""
    return check_attrs(load_json(data, what), what)


def parse_run(data: bytes, what: str) -> dict[str, Any]:
    """Parse and check a ``run.json`` record: the fields readers use, where present, have their types."""
    run = expect_object(load_json(data, what), what)
    expect(run, "id", str, what)
    for key in ("name", "entity", "project", "host"):
        expect(run, key, str, what, optional=True)
    expect(run, "job_type", (str, type(None)), what, optional=True)
    expect(run, "group", str, what, optional=True)
    expect(run, "config", dict, what, optional=True)
    expect(run, "summary", dict, what, optional=True)
    expect(run, "step", int, what, optional=True)
    expect(run, "git", (dict, type(None)), what, optional=True)
    _time(run, "started_at", what, optional=True)
    _time(run, "finished_at", what, optional=True)
    expect(run, "exit_code", (int, type(None)), what, optional=True)
    for key in ("used", "logged"):
        items = expect(run, key, list, what, optional=True) or []
        for item in items:
            item = expect_object(item, f"{what} ({key} item)")
            expect(item, "commit", str, f"{what} ({key} item)")
    return run
