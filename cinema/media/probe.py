"""What a media file is, read from its bytes (docs/media.md, "Accepted content").

The container is recognised from its magic numbers (`filetype`), then PyAV
(FFmpeg's libraries, no external binary) opens it, reads the streams' codecs,
the duration and the picture size, and decodes the first picture, so a file
with a valid header and garbage after it is refused too. The client's file
name and content type are never consulted.

Accepted:
- video (feature, trailer): MP4 with H.264 video and AAC audio, WebM with VP8,
  VP9 or AV1 video and Opus or Vorbis audio; audio is optional (silent films);
- posters: JPEG, PNG or WebP, at most `MAX_POSTER_PIXELS`.
Anything else raises `UnsupportedMediaType` (415 `unsupported_media_type`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import filetype  # type: ignore[import-untyped]

from cinema.errors import UnsupportedMediaType

log = logging.getLogger("cinema.media.probe")

#: container MIME type -> (accepted video codecs, accepted audio codecs), PyAV codec names.
VIDEO_CONTAINERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "video/mp4": (frozenset({"h264"}), frozenset({"aac"})),
    "video/webm": (frozenset({"vp8", "vp9", "av1"}), frozenset({"opus", "vorbis"})),
}
#: poster MIME type -> PyAV codec name.
IMAGE_TYPES = {"image/jpeg": "mjpeg", "image/png": "png", "image/webp": "webp"}
#: File extension of each accepted type (storage keys end with it).
EXTENSIONS = {
    "video/mp4": "mp4",
    "video/webm": "webm",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}
#: Largest poster, in pixels (a small file can declare a huge picture: a decompression bomb).
MAX_POSTER_PIXELS = 40_000_000
#: Largest video picture side PyAV is asked to decode (8K).
MAX_VIDEO_SIDE = 8192


@dataclass(frozen=True)
class MediaInfo:
    """What the bytes are: the type stored as the asset's `content_type`, and what was read."""

    content_type: str
    extension: str
    codecs: str
    width: int
    height: int
    duration_seconds: float | None = None


def _refuse(what: str, reason: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"{what} {reason}", code="unsupported_media_type")


def sniff(path: Path) -> str | None:
    """The MIME type recognised from the file's first bytes, or None."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    kind = filetype.guess(head) if head else None
    return None if kind is None else str(kind.mime)


def probe_video(path: Path) -> MediaInfo:
    """Check a feature or trailer file; raises `UnsupportedMediaType` unless it is an accepted video."""
    what = "The video must be MP4 (H.264/AAC) or WebM (VP8/VP9/AV1 with Opus/Vorbis):"
    mime = sniff(path)
    if mime not in VIDEO_CONTAINERS:
        raise _refuse(what, f"this file is {mime or 'not a recognised media type'}.")
    video_codecs, audio_codecs = VIDEO_CONTAINERS[mime]
    import av

    try:
        with av.open(str(path), mode="r") as container:
            videos = list(container.streams.video)
            audios = list(container.streams.audio)
            if not videos:
                raise _refuse(what, "it has no video stream.")
            video = videos[0].codec_context
            # The codec's own name (`av1`), not the decoder FFmpeg picked for it (`libdav1d`).
            video_name = _codec_name(video)
            if video_name not in video_codecs:
                raise _refuse(what, f"its video codec is {video_name}.")
            audio_names = [_codec_name(audio.codec_context) for audio in audios]
            for name in audio_names:
                if name not in audio_codecs:
                    raise _refuse(what, f"its audio codec is {name}.")
            width, height = int(video.width or 0), int(video.height or 0)
            if not (0 < width <= MAX_VIDEO_SIDE and 0 < height <= MAX_VIDEO_SIDE):
                raise _refuse(what, f"its picture size {width}x{height} is not supported.")
            duration = _duration(container, videos[0])
            if duration is None or duration <= 0:
                raise _refuse(what, "its duration cannot be read.")
            # One decoded picture: the stream really is what its headers say.
            frame = next(container.decode(video=0), None)
            if frame is None:
                raise _refuse(what, "no picture could be decoded.")
    except UnsupportedMediaType:
        raise
    except Exception as exc:  # FFmpeg refused the bytes: whatever it says, they are not a video we take.
        log.info("video probe failed: %s", exc)
        raise _refuse(what, "the file could not be read as one.") from None
    codecs = ",".join([video_name, *audio_names[:1]])
    return MediaInfo(mime, EXTENSIONS[mime], codecs, width, height, round(duration, 3))


def _codec_name(context: Any) -> str:
    return str(context.codec.canonical_name)


def _duration(container: Any, stream: Any) -> float | None:
    if container.duration:
        return float(Fraction(int(container.duration), 1_000_000))  # AV_TIME_BASE: microseconds
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def probe_poster(path: Path) -> MediaInfo:
    """Check a poster file; raises `UnsupportedMediaType` unless it is a JPEG, PNG or WebP picture."""
    what = "The poster must be a JPEG, PNG or WebP image:"
    mime = sniff(path)
    if mime not in IMAGE_TYPES:
        raise _refuse(what, f"this file is {mime or 'not a recognised image type'}.")
    import av

    try:
        with av.open(str(path), mode="r") as container:
            videos = list(container.streams.video)
            if len(videos) != 1 or _codec_name(videos[0].codec_context) != IMAGE_TYPES[mime]:
                raise _refuse(what, "its content does not match its type.")
            declared = videos[0].codec_context
            if int(declared.width or 0) * int(declared.height or 0) > MAX_POSTER_PIXELS:
                raise _refuse(what, "it has too many pixels.")
            frame = next(container.decode(video=0), None)
            if frame is None:
                raise _refuse(what, "no picture could be decoded.")
            width, height = int(frame.width), int(frame.height)
    except UnsupportedMediaType:
        raise
    except Exception as exc:
        log.info("poster probe failed: %s", exc)
        raise _refuse(what, "the file could not be read as one.") from None
    if not (width > 0 and height > 0) or width * height > MAX_POSTER_PIXELS:
        raise _refuse(what, f"its size {width}x{height} is not supported.")
    return MediaInfo(mime, EXTENSIONS[mime], IMAGE_TYPES[mime], width, height)
