"""Audio and video through a real repository: the same samples and frames back."""
from __future__ import annotations

import wave

import imageio.v3 as iio
import numpy as np
import pytest
import soundfile

import artvcs
from artvcs.errors import UsageError
from artvcs.media import wav

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("samples", [
    RNG.uniform(-1.5, 1.5, (400, 2)).astype(np.float32),
    RNG.uniform(-1, 1, 300),
    RNG.integers(-2**15, 2**15, 500, dtype=np.int16),
    RNG.integers(-2**31, 2**31, (100, 3), dtype=np.int32),
    RNG.integers(0, 256, 50, dtype=np.uint8),
], ids=["float32-stereo", "float64", "int16", "int32-3ch", "uint8"])
def test_samples_come_back_exactly(roundtrip, samples):
    audio = artvcs.Audio(samples, sample_rate=22050, caption="clip")
    got = roundtrip(audio)
    assert got == audio and got.sample_rate == 22050 and got.caption == "clip"
    assert got.data.dtype == samples.dtype and np.array_equal(got.data, samples)
    assert got.duration == len(samples) / 22050


def test_the_wav_is_a_standard_file(tmp_path):
    samples = RNG.integers(-2**15, 2**15, (64, 2), dtype=np.int16)
    data = wav.encode(samples, 8000, "test")
    (tmp_path / "a.wav").write_bytes(data)
    with wave.open(str(tmp_path / "a.wav")) as w:  # the stdlib reads PCM
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (2, 8000, 64)
    floats = RNG.uniform(-1, 1, 32).astype(np.float32)
    back, rate = soundfile.read(__import__("io").BytesIO(wav.encode(floats, 16000, "test")), dtype="float32")
    assert rate == 16000 and np.array_equal(back, floats)
    assert wav.encode(floats, 16000, "x") == wav.encode(floats.copy(), 16000, "y"), "same samples, same bytes"


def test_audio_files_keep_their_bytes(roundtrip, tmp_path):
    flac = tmp_path / "tone.flac"
    samples = (np.sin(np.arange(800) / 5) * 3000).astype(np.int16)
    soundfile.write(flac, samples, 8000)
    audio = artvcs.Audio(str(flac))
    got = roundtrip(audio)
    assert got == audio and got.format == "flac" and got._data == flac.read_bytes()
    assert np.array_equal((got.data * 2**15).round().astype(np.int16), samples)  # soundfile decodes FLAC


def test_bad_audio_is_refused(tmp_path):
    with pytest.raises(UsageError, match="sample_rate is required"):
        artvcs.Audio(np.zeros(10, dtype=np.float32))
    with pytest.raises(UsageError, match="dtype int64 cannot be stored exactly"):
        artvcs.Audio(np.zeros(10, dtype=np.int64), sample_rate=8000)
    with pytest.raises(UsageError, match="frames, channels"):
        artvcs.Audio(np.zeros((2, 2, 2), dtype=np.float32), sample_rate=8000)
    with pytest.raises(UsageError, match="not an audio file"):
        artvcs.Audio(str(tmp_path / "x.txt"))


def test_video_frames_come_back_exactly_beside_a_real_mp4(log):
    t, c, h, w = np.indices((6, 3, 11, 13))
    frames = (40 + 8 * t + 30 * c + 5 * h + 4 * w).astype(np.uint8)  # W&B's (T, C, H, W), odd sizes, smooth
    video = artvcs.Video(frames, fps=8, caption="walk")
    art = log({"v": video})
    got = art.get("v")
    assert got == video and got.fps == 8 and got.format == "mp4"
    assert got.frames.dtype == np.uint8 and np.array_equal(got.frames, frames)
    mp4 = [p for p in art.manifest.entries if p.endswith(".mp4")]
    assert len(mp4) == 1
    shown = iio.imread(art.get_entry(mp4[0]).download(), extension=".mp4", index=None)
    assert shown.shape == (6, 12, 14, 3), "a real H.264 MP4, padded to even sizes"
    assert np.abs(shown[:, :11, :13].astype(int) - frames.transpose(0, 2, 3, 1)).mean() < 8, "it shows the frames"


def test_batched_float_video_as_gif(roundtrip):
    frames = RNG.random((3, 4, 1, 8, 8)).astype(np.float32)  # (B, T, C, H, W)
    video = artvcs.Video(frames, format="gif")
    got = roundtrip(video)
    assert got == video and got.fps == 4 and got.frames.dtype == np.float32 and np.array_equal(got.frames, frames)
    assert (got._width, got._height) == (16, 16), "a batch of 3 is tiled into a 2x2 grid"


def test_video_files_keep_their_bytes(roundtrip, tmp_path):
    path = tmp_path / "clip.mp4"
    iio.imwrite(path, RNG.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8), fps=4, codec="libx264", plugin="FFMPEG")
    video = artvcs.Video(str(path))
    got = roundtrip(video)
    assert got == video and got._data == path.read_bytes()
    assert got.frames.shape == (4, 3, 16, 16)  # decoded by imageio


def test_bad_video_is_refused(tmp_path):
    with pytest.raises(UsageError, match=r"\(T, C, H, W\)"):
        artvcs.Video(np.zeros((4, 16, 16, 3), dtype=np.uint8))  # channels last
    with pytest.raises(UsageError, match="format 'avi'"):
        artvcs.Video(np.zeros((1, 3, 4, 4), dtype=np.uint8), format="avi")
    with pytest.raises(UsageError, match="fps must be a positive number"):
        artvcs.Video(np.zeros((1, 3, 4, 4), dtype=np.uint8), fps=0)
    with pytest.raises(UsageError, match="numpy array or a path"):
        artvcs.Video([[1]])


def test_a_wav_artvcs_does_not_decode_is_kept_as_given(roundtrip, tmp_path):
    path = tmp_path / "deep.wav"
    soundfile.write(path, (np.arange(64) * 1000).astype(np.int32), 8000, subtype="PCM_24")
    audio = artvcs.Audio(str(path))
    got = roundtrip(audio)
    assert got == audio and got._data == path.read_bytes() and got.data.shape == (64,)  # soundfile decodes 24-bit
