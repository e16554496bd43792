"""Small playable sample media made locally with PyAV: a moving test pattern and a tone.

The embedded demo attaches these to sample movies (nothing is downloaded), and
the tests use them as real, decodable files. WebM (VP9 + Opus) plays in every
browser, Debian's Chromium included (which has no H.264); MP4 (H.264 + AAC)
is made for the tests of the other accepted container.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

#: container -> (PyAV format, video encoder, audio encoder)
FORMATS = {
    "webm": ("webm", "libvpx-vp9", "libopus"),
    "mp4": ("mp4", "libx264", "aac"),
}

AUDIO_RATE = 48_000


def _pattern(width: int, height: int, index: int, hue: int) -> bytes:
    """One RGB frame: eight colour bars sliding right by a few pixels a frame, and a white bar moving down."""
    bars = [
        (235, 235, 235),
        (235, 235, 16),
        (16, 235, 235),
        (16, 235, 16),
        (235, 16, 235),
        (235, 16, 16),
        (16, 16, 235),
        ((hue * 37) % 256, (hue * 91) % 256, (hue * 53) % 256),
    ]
    shift = (index * 4) % width
    row = bytearray()
    for x in range(width):
        row += bytes(bars[((x + shift) * len(bars) // width) % len(bars)])
    line = bytes(row)
    marker = (index * 3) % height
    white = b"\xff" * (width * 3)
    return b"".join(white if abs(y - marker) < 4 else line for y in range(height))


def _rgb_frame(width: int, height: int, rgb: bytes) -> Any:
    """A PyAV RGB frame holding `rgb` (rows are padded to the plane's line size)."""
    import av

    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    row = width * 3
    pad = b"\0" * (plane.line_size - row)
    plane.update(b"".join(rgb[y * row : (y + 1) * row] + pad for y in range(height)) if pad else rgb)
    return frame


def _tone(start: int, count: int, frequency: float) -> bytes:
    """`count` mono signed 16-bit samples of a sine tone, from sample `start`."""
    out = bytearray()
    for n in range(start, start + count):
        value = int(8000 * math.sin(2 * math.pi * frequency * n / AUDIO_RATE))
        out += value.to_bytes(2, "little", signed=True)
    return bytes(out)


def write_sample(
    path: Path,
    *,
    seconds: float = 4.0,
    width: int = 320,
    height: int = 180,
    fps: int = 24,
    container: str = "webm",
    hue: int = 0,
    audio: bool = True,
    keyframe_every: int | None = None,
    bit_rate: int | None = None,
    noise: bool = False,
    encoders: tuple[str, str | None] | None = None,
    faststart: bool = False,
) -> Path:
    """Encode a `seconds`-long test pattern (and a tone) to `path`; returns `path`.

    `container` is `webm` or `mp4` (or another PyAV format with `encoders`);
    `encoders` = (video encoder, audio encoder or None) overrides the defaults;
    `faststart` puts an MP4's index (`moov`) before the media data, as files
    made for the web have it.
    """
    import av

    fmt, video_codec, audio_codec = FORMATS.get(container, (container, "", ""))
    if encoders is not None:  # the tests' other codecs (and refused combinations)
        video_codec, audio_codec = encoders[0], encoders[1] or ""
        audio = audio and encoders[1] is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = max(1, round(seconds * fps))
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", format=fmt, options=options) as output:
        video: Any = output.add_stream(video_codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        # Quick, small and with a key frame every second (by default), so a seek lands near its target.
        gop = str(keyframe_every or fps)
        video.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "g": gop}
        if video_codec == "libx264":
            video.options = {"preset": "ultrafast", "g": gop}
        elif video_codec == "libsvtav1":
            video.options = {"preset": "12", "g": gop}
        if bit_rate:
            video.bit_rate = bit_rate
        sound: Any = None
        if audio:
            sound = output.add_stream(audio_codec, rate=AUDIO_RATE)
            sound.layout = "mono"
        for index in range(frames):
            # Noise does not compress: a large file from a few seconds (the tests' seeks need one).
            picture = os.urandom(width * height * 3) if noise else _pattern(width, height, index, hue)
            frame = _rgb_frame(width, height, picture)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in video.encode(frame.reformat(format="yuv420p")):
                output.mux(packet)
        for packet in video.encode(None):
            output.mux(packet)
        if sound is not None:
            size = int(sound.codec_context.frame_size or 1024)
            total = int(seconds * AUDIO_RATE)
            for start in range(0, total, size):
                chunk = av.AudioFrame(format="s16", layout="mono", samples=size)
                chunk.planes[0].update(_tone(start, size, 440.0 + 110 * (hue % 4)))
                chunk.sample_rate = AUDIO_RATE
                chunk.pts = start
                chunk.time_base = Fraction(1, AUDIO_RATE)
                for packet in sound.encode(chunk):
                    output.mux(packet)
            for packet in sound.encode(None):
                output.mux(packet)
    return path


def write_poster(path: Path, *, width: int = 200, height: int = 300, hue: int = 0, kind: str = "png") -> Path:
    """A test-pattern poster as a PNG, JPEG or WebP image (`kind`: png, jpeg, webp); returns `path`."""
    import av

    codec, pix_fmt = {"png": ("png", "rgb24"), "jpeg": ("mjpeg", "yuvj420p"), "webp": ("libwebp", "yuv420p")}[
        kind
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w", format="image2pipe") as output:
        stream: Any = output.add_stream(codec, rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        frame = _rgb_frame(width, height, _pattern(width, height, hue * 5, hue))
        for packet in stream.encode(frame.reformat(format=pix_fmt)):
            output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return path
