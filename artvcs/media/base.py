"""What every media type shares: the ``Media`` base class, and the writer and reader of its files.

A media object becomes one JSON document (its layout is in artvcs-media(5))
plus binary *parts* (PNG, WAV, NPY...). Parts are content-addressed:
``media/<folder>/<blake3 hex>.<ext>``, so the same bytes referenced by many
objects (one image in a thousand table rows) are one entry.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

import blake3

from artvcs.errors import MediaFormatError
from artvcs.plumbing.errors import UsageError

#: parts smaller than this are read once per ``get`` however many objects name them
CACHED_PART = 1 << 20
#: ``_type`` -> class, filled as the media modules are imported.
REGISTRY: dict[str, type["Media"]] = {}


def dumps(obj: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8, no NaN (so equal objects store equal bytes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def digest(data: bytes) -> str:
    """blake3 hex digest, as the content store names bytes."""
    return blake3.blake3(data).hexdigest()


class Media:
    """Base of the W&B media types artvcs can store in an artifact."""

    #: W&B's ``_log_type``: the ``<kind>`` of ``<name>.<kind>.json`` and the JSON ``_type``.
    _log_type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_log_type"):
            REGISTRY[cls._log_type] = cls

    def _encode(self, out: "Writer") -> dict[str, Any]:
        """The JSON document of this object; binary parts go to ``out``."""
        raise TypeError(f"{type(self).__name__} cannot be stored")

    @classmethod
    def _decode(cls, obj: dict[str, Any], src: "Reader", where: str) -> "Media":
        """Rebuild the object from its JSON document ``obj`` (found at ``where``)."""
        raise TypeError(f"{cls.__name__} cannot be read")

    def to_json(self, run_or_artifact: Any) -> dict[str, Any]:
        """W&B's ``to_json``: this object's JSON document; the files it names go into the artifact
        (a draft; a logged artifact must hold them already)."""
        add_parts = getattr(run_or_artifact, "_add_media_parts", None)
        if add_parts is None:
            raise UsageError(f"to_json needs an artvcs Artifact, not {type(run_or_artifact).__name__}")
        out = Writer()
        doc = self._encode(out)
        add_parts(out.parts)
        return doc

    @classmethod
    def from_json(cls, json_obj: dict[str, Any], source_artifact: Any) -> "Media":
        """W&B's ``from_json``: the object of a JSON document, reading the files it names from the artifact."""
        if not isinstance(json_obj, dict):
            raise MediaFormatError(f"from_json takes the dict that to_json returned, not {type(json_obj).__name__}")
        obj = source_artifact._media_reader().inline(json_obj, f"{cls.__name__}.from_json")
        if not isinstance(obj, cls):
            raise MediaFormatError(f"the document is a {type(obj).__name__} (_type {json_obj.get('_type')!r}), not a {cls.__name__}")
        return obj

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None  # content equality; the objects are mutable


class FileMedia(Media):
    """A media object stored as one file of some format (png, wav, mp4, glb...), with a caption."""

    _format: str
    _caption: str | None

    @property
    def format(self) -> str:
        """The stored file's format."""
        return self._format

    @property
    def caption(self) -> str | None:
        return self._caption


class Writer:
    """Collects the entries one ``add`` writes: entry path -> bytes."""

    def __init__(self) -> None:
        self.parts: dict[str, bytes] = {}

    def blob(self, folder: str, data: bytes, ext: str, known_digest: str | None = None) -> str:
        """Store ``data`` as ``media/<folder>/<digest>.<ext>``; return that path."""
        path = f"media/{folder}/{known_digest or digest(data)}.{ext}"
        self.parts[path] = data
        return path

    def entry(self, path: str, doc: dict[str, Any]) -> bytes:
        """Write the JSON document ``doc`` at ``path``; return its bytes."""
        data = dumps(doc)
        self.parts[path] = data
        return data

    def child(self, obj: Media, folder: str) -> tuple[str, str]:
        """Store ``obj`` as its own content-addressed JSON entry; return ``(path, digest)``."""
        data = dumps(obj._encode(self))
        d = digest(data)
        path = f"media/{folder}/{d}.{obj._log_type}.json"
        self.parts[path] = data
        return path, d

    def inline(self, obj: Media) -> dict[str, Any]:
        """The JSON document of ``obj``, to be embedded in another document (a table cell)."""
        return obj._encode(self)


class Reader:
    """Reads the entries of one logged artifact for decoding: by path, verified by the store."""

    def __init__(self, entries: frozenset[str], read: Callable[[str], bytes]) -> None:
        self.entries = entries
        self._read = read
        self._objects: dict[str, Media] = {}
        self._bytes: dict[str, bytes] = {}  # a table whose rows show one image reads it once

    def bytes(self, path: Any, where: str) -> bytes:
        """The bytes of the entry ``path`` named by the document at ``where``."""
        if not isinstance(path, str) or path not in self.entries:
            raise MediaFormatError(f"{where!r} names the part {path!r}, which the artifact does not have")
        data = self._bytes.get(path)
        if data is None:
            data = self._read(path)
            if len(data) < CACHED_PART:
                self._bytes[path] = data
        return data

    def json(self, path: str, where: str | None = None) -> dict[str, Any]:
        raw = self.bytes(path, where or path)
        try:
            doc = json.loads(raw)
        except ValueError as e:
            raise MediaFormatError(f"{path!r} is not valid JSON: {e}") from None
        if not isinstance(doc, dict):
            raise MediaFormatError(f"{path!r} holds a JSON {type(doc).__name__}, not an object with a '_type'")
        return doc

    def object(self, path: str, where: str | None = None) -> Media:
        """The media object whose JSON document is the entry ``path`` (read once per path)."""
        if path not in self._objects:
            self._objects[path] = self.inline(self.json(path, where), path)
        return self._objects[path]

    def inline(self, doc: dict[str, Any], where: str) -> Media:
        """The media object of a JSON document (an entry's, or one embedded in a table)."""
        kind = doc.get("_type")
        cls = REGISTRY.get(kind) if isinstance(kind, str) else None
        if cls is None:
            raise MediaFormatError(
                f"{where!r} has _type {kind!r}, which is not a media type; known: {', '.join(sorted(REGISTRY))}"
            )
        try:
            return cls._decode(doc, self, where)
        except UsageError as e:  # a constructor's check failing on stored values
            raise MediaFormatError(f"{where!r} is not a valid {kind!r} document: {e}") from None
        except (KeyError, TypeError, IndexError) as e:
            raise MediaFormatError(f"{where!r} is not a valid {kind!r} document: {type(e).__name__}: {e}") from None

    def listdir(self, folder: str) -> list[str]:
        """Entry paths directly inside ``folder``, sorted."""
        prefix = folder.rstrip("/") + "/" if folder else ""
        return sorted(p for p in self.entries if p.startswith(prefix) and "/" not in p[len(prefix):])


def field(doc: dict[str, Any], key: str, types: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    """``doc[key]`` checked to be of ``types``; MediaFormatError naming the document otherwise."""
    if key not in doc:
        if default is not ...:
            return default
        raise MediaFormatError(f"{where!r} lacks the field {key!r}")
    value = doc[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        raise MediaFormatError(f"{where!r}: field {key!r} is {value!r:.60}, expected {_names(types)}")
    return value


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _names(types: type | tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in _as_tuple(types))
