"""A minimal RIFF/WAVE writer and reader that keeps samples exactly and bytes deterministic.

Integer samples are PCM (uint8, int16, int32), float samples IEEE float
(float32, float64), so every sample comes back bit for bit. libsndfile
would add a PEAK chunk with a timestamp, so the same samples would not
always make the same file, and content addressing would store them twice.
"""
from __future__ import annotations

import struct
from typing import Any

from artvcs.errors import MediaFormatError
from artvcs.media import extras
from artvcs.plumbing.errors import UsageError

PCM, IEEE_FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
#: numpy dtype -> (WAV format tag, bits per sample)
FORMATS = {"|u1": (PCM, 8), "<i2": (PCM, 16), "<i4": (PCM, 32), "<f4": (IEEE_FLOAT, 32), "<f8": (IEEE_FLOAT, 64)}


def encode(samples: Any, sample_rate: int, where: str) -> bytes:
    """WAV bytes of ``samples`` ((frames,) or (frames, channels)) at ``sample_rate``."""
    np = extras.numpy(where)
    if samples.ndim not in (1, 2) or samples.size == 0:
        raise UsageError(f"{where}: samples must be (frames,) or (frames, channels) and not empty, not of shape {samples.shape}")
    key = samples.dtype.newbyteorder("<").str if samples.dtype.kind in "iuf" else samples.dtype.str
    if key not in FORMATS:
        raise UsageError(f"{where}: samples of dtype {samples.dtype} cannot be stored exactly; use uint8, int16, int32, float32 or float64")
    tag, bits = FORMATS[key]
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    block = channels * bits // 8
    data = np.ascontiguousarray(samples, dtype=np.dtype(key)).tobytes()
    fmt = struct.pack("<HHIIHH", tag, channels, sample_rate, sample_rate * block, block, bits)
    chunks = [b"fmt ", struct.pack("<I", len(fmt)), fmt]
    if tag == IEEE_FLOAT:  # non-PCM formats carry a fact chunk: the frame count
        chunks += [b"fact", struct.pack("<II", 4, len(samples))]
    chunks += [b"data", struct.pack("<I", len(data)), data, b"\0" * (len(data) % 2)]
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def decode(wav: bytes, where: str) -> tuple[Any, int]:
    """``(samples, sample_rate)`` of a PCM or IEEE-float WAV file (mono gives a 1-D array)."""
    np = extras.numpy(f"reading {where}")
    if len(wav) < 12 or wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise MediaFormatError(f"{where}: not a RIFF/WAVE file")
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(wav):
        cid, size = wav[pos:pos + 4], struct.unpack_from("<I", wav, pos + 4)[0]
        body = wav[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            data = body
        pos += 8 + size + (size % 2)
    if fmt is None or data is None or len(fmt) < 16:
        raise MediaFormatError(f"{where}: a WAV file needs a fmt and a data chunk")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]
    dtype = next((d for d, (t, b) in FORMATS.items() if t == tag and b == bits), None)
    if dtype is None or channels < 1:
        raise MediaFormatError(f"{where}: WAV format {tag} with {bits}-bit samples is not one artvcs reads")
    samples = np.frombuffer(data[: len(data) - len(data) % (channels * bits // 8)], dtype=dtype)
    return (samples.copy() if channels == 1 else samples.reshape(-1, channels).copy()), rate
