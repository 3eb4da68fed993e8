"""MP4 video files written and read with PyAV (FFmpeg), the way LeRobot writes and reads its datasets.

LeRobot v3 keeps many episodes of one camera back to back in one MP4 file and
finds an episode by its time span in that file; `VideoFileWriter` appends an
episode and says where it landed, `VideoFileReader` hands back the frames of a
time span. PyAV is a dependency of dexagent, imported only when videos are read or written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from dexagent.controller.data.store import StoreError

# LeRobot's defaults (datasets/video_utils.py): AV1 by SVT-AV1, a keyframe every 2 frames, crf 30.
DEFAULT_CODEC = "libsvtav1"
FALLBACK_CODEC = "libx264"  # when this FFmpeg build lacks SVT-AV1
KEYFRAME_INTERVAL = 2
DEFAULT_CRF = 30


def require_av() -> ModuleType:
    """The `av` module, or a StoreError saying how to install it."""
    try:
        import av
    except ImportError:
        raise StoreError(
            "video files need PyAV, a dependency of dexagent that cannot be imported here: "
            "pip install 'av>=14'"
        ) from None
    return av


def available_codec(preferred: str = DEFAULT_CODEC) -> str:
    """`preferred` if this FFmpeg build can encode it, else H.264."""
    av = require_av()
    for name in (preferred, FALLBACK_CODEC):
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: S112 - an unknown codec raises one of several FFmpeg errors
            continue
    raise StoreError(f"this FFmpeg build encodes neither {preferred} nor {FALLBACK_CODEC}")


def _codec_options(codec: str, crf: int) -> dict[str, str]:
    options = {"g": str(KEYFRAME_INTERVAL), "crf": str(crf)}
    if codec == "libsvtav1":
        options["preset"] = "12"  # LeRobot's: the fastest preset
    return options


class VideoFileWriter:
    """One MP4 file of one camera; episodes are appended back to back at a fixed frame rate."""

    def __init__(self, path: Path, fps: int, codec: str, crf: int = DEFAULT_CRF) -> None:
        av = require_av()
        # SVT-AV1 prints its configuration to stderr at "info" level; keep warnings and errors only.
        os.environ.setdefault("SVT_LOG", "1")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.fps, self.codec = path, fps, codec
        self._container: Any = av.open(str(path), "w")
        self._stream: Any = None
        self._crf = crf
        self.frames = 0

    def append(self, frames: np.ndarray) -> tuple[float, float]:
        """Encode uint8[T, H, W, 3]; returns the episode's (from, to) timestamps in seconds in this file."""
        av = require_av()
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise StoreError(
                f"video frames must be uint8[T, H, W, 3], got {frames.dtype}{list(frames.shape)}"
            )
        if self._stream is None:
            stream = self._container.add_stream(
                self.codec, rate=self.fps, options=_codec_options(self.codec, self._crf)
            )
            stream.pix_fmt = "yuv420p"
            stream.height, stream.width = int(frames.shape[1]), int(frames.shape[2])
            self._stream = stream
        start = self.frames
        for image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = self.frames  # in the stream's 1/fps time base: frame i sits at exactly i / fps
            self.frames += 1
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        return start / self.fps, self.frames / self.fps

    def size_bytes(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self._stream is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
        self._container.close()


def video_info(path: Path) -> dict[str, Any]:
    """The `info` block LeRobot keeps per video feature in meta/info.json."""
    av = require_av()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            "video.height": stream.height,
            "video.width": stream.width,
            "video.codec": stream.codec_context.codec.canonical_name,
            "video.pix_fmt": stream.pix_fmt,
            "video.is_depth_map": False,
            "video.fps": int(stream.base_rate),
            "video.channels": 3,
            "has_audio": False,
        }


class VideoFileReader:
    """Sequential reads of time spans from MP4 files, decoding each file once when read in order."""

    def __init__(self, fps: float, tolerance_s: float = 1e-3) -> None:
        self.fps, self.tolerance_s = fps, tolerance_s
        self._path: Path | None = None
        self._container: Any = None
        self._frames: Iterator[tuple[float, np.ndarray]] | None = None
        self._pending: tuple[float, np.ndarray] | None = None

    def _open(self, path: Path) -> None:
        av = require_av()
        self.close()
        if not path.is_file():
            raise StoreError(f"missing video file {path}")
        try:
            self._container = av.open(str(path))
        except Exception as error:  # FFmpeg raises its own error types for unreadable files
            raise StoreError(f"cannot read the video {path}: {error}") from error
        stream = self._container.streams.video[0]
        self._path = path
        self._frames = (
            (float(frame.pts * frame.time_base), frame.to_ndarray(format="rgb24"))
            for frame in self._container.decode(stream)
        )
        self._pending = None

    def read(self, path: Path, from_s: float, count: int) -> np.ndarray:
        """uint8[count, H, W, 3]: the frames of `path` at from_s, from_s + 1/fps, ..."""
        if self._path != path or (self._pending is not None and self._pending[0] > from_s + self.tolerance_s):
            self._open(path)  # another file, or a span before the current position
        assert self._frames is not None
        out: list[np.ndarray] = []
        while len(out) < count:
            if self._pending is None:
                try:
                    self._pending = next(self._frames)
                except StopIteration:
                    raise StoreError(
                        f"{path} ends before {count} frames from {from_s:.3f} s (it has fewer frames "
                        "than meta/episodes says)"
                    ) from None
            timestamp, image = self._pending
            expected = from_s + len(out) / self.fps
            if timestamp < expected - self.tolerance_s:
                self._pending = None  # a frame of an earlier episode: skip it
                continue
            if timestamp > expected + self.tolerance_s:
                raise StoreError(f"{path} has no frame at {expected:.3f} s (next is at {timestamp:.3f} s)")
            out.append(image)
            self._pending = None
        return np.stack(out)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container, self._frames, self._path, self._pending = None, None, None, None
