"""``artvcs.Audio``: samples stored as an exact WAV, or an audio file as given."""
from __future__ import annotations

import io
import os
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media import extras, wav
from artvcs.media.base import FileMedia, Reader, Writer, digest, field
from artvcs.media.values import same
from artvcs.plumbing.errors import UsageError

#: file formats kept as given, by extension
FILE_FORMATS = ("wav", "mp3", "flac", "ogg", "m4a", "aac", "opus")


class Audio(FileMedia):
    """Sound: a numpy array of samples with ``sample_rate``, or the path of an audio file."""

    _log_type = "audio-file"

    def __init__(self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None) -> None:
        if caption is not None and not isinstance(caption, str):
            raise UsageError(f"Audio: caption must be a string, not {caption!r:.40}")
        self._caption = caption
        self._samples: Any = None
        if isinstance(data_or_path, (str, os.PathLike)):
            path = os.fspath(data_or_path)
            ext = os.path.splitext(path)[1].lstrip(".").lower()
            if ext not in FILE_FORMATS:
                raise UsageError(f"Audio: {path!r} is not an audio file artvcs keeps; extensions: {', '.join(FILE_FORMATS)}")
            if not os.path.isfile(path):
                raise UsageError(f"Audio: {path!r} is not a file")
            with open(path, "rb") as f:
                self._data = f.read()
            self._format = ext
            self._samples, rate = _read_wav(self._data, ext, path)
            self._sample_rate = rate or sample_rate
        else:
            np = extras.numpy("Audio from samples")
            samples = data_or_path if extras.is_ndarray(data_or_path) else np.asarray(data_or_path)
            if sample_rate is None:
                raise UsageError("Audio: sample_rate is required with raw samples, e.g. Audio(data, sample_rate=16000)")
            if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or not 0 < sample_rate < 2**32:
                raise UsageError(f"Audio: sample_rate must be a positive int, not {sample_rate!r:.40}")
            self._data = wav.encode(samples, sample_rate, "Audio")
            self._samples, self._sample_rate, self._format = samples.copy(), sample_rate, "wav"
        self._digest = digest(self._data)

    @property
    def data(self) -> Any:
        """The samples: (frames,) for mono, (frames, channels) otherwise (non-WAV files need soundfile)."""
        if self._samples is None:
            sf = extras.require("soundfile", f"decoding a {self._format} Audio")
            self._samples, rate = sf.read(io.BytesIO(self._data), always_2d=False)
            self._sample_rate = self._sample_rate or rate
        return self._samples

    @property
    def sample_rate(self) -> int | None:
        return self._sample_rate

    @property
    def duration(self) -> float | None:
        """Seconds of sound (known for WAV)."""
        if self._samples is None or not self._sample_rate:
            return None
        return len(self._samples) / self._sample_rate

    def _encode(self, out: Writer) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "_type": "audio-file",
            "path": out.blob("audio", self._data, self._format, self._digest),
            "format": self._format,
            "size": len(self._data),
            "sample_rate": self._sample_rate,
        }
        if self._samples is not None:  # a WAV artvcs reads: its shape is known
            s = self._samples
            doc.update(channels=1 if s.ndim == 1 else s.shape[1], frames=len(s), dtype=s.dtype.str, duration=self.duration)
        if self._caption is not None:
            doc["caption"] = self._caption
        return doc

    @classmethod
    def _decode(cls, doc: dict[str, Any], src: Reader, where: str) -> "Audio":
        self = cls.__new__(cls)
        self._data = src.bytes(field(doc, "path", str, where), where)
        self._digest = digest(self._data)
        self._format = field(doc, "format", str, where, "wav")
        self._sample_rate = field(doc, "sample_rate", (int, type(None)), where, None)
        self._caption = field(doc, "caption", str, where, None)
        self._samples, rate = _read_wav(self._data, self._format, where)
        self._sample_rate = rate or self._sample_rate
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Audio):
            return NotImplemented
        if (self._format, self._sample_rate, self._caption) != (other._format, other._sample_rate, other._caption):
            return False
        if self._samples is not None and other._samples is not None and self._format == "wav":
            return same(self._samples, other._samples)
        return self._digest == other._digest

    def __repr__(self) -> str:
        return f"<Audio {self._format} {self._sample_rate} Hz{' ' + repr(self._caption) if self._caption else ''}>"


def _read_wav(data: bytes, fmt: str, where: str) -> tuple[Any, int | None]:
    """``(samples, sample_rate)`` of a WAV artvcs reads; ``(None, None)`` for other files (soundfile decodes those)."""
    if fmt != "wav":
        return None, None
    try:
        return wav.decode(data, where)
    except MediaFormatError:  # e.g. 24-bit PCM: kept as given
        return None, None
