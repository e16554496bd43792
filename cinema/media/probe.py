"""What a media file is, read from its bytes (docs/media.md, "Accepted content").

The container is recognised from its magic numbers (`filetype`), then PyAV
(FFmpeg's libraries, no external binary) opens it, reads the streams' codecs,
the duration and the picture size, and decodes the first picture, so a file
with a valid header and garbage after it is refused too. The client's file
name and content type are never consulted.

A truncated video (an upload cut short) is refused as 415 `truncated_media`,
by three checks, since FFmpeg plays what it has without complaint:
- the container's own size fields: the top-level MP4 boxes must tile the
  file, the WebM `Segment` must fit in it (`container_complete`);
- every packet is demuxed (read, not decoded: the cost of one read of the
  file) and none may be flagged corrupt (FFmpeg flags a packet cut by the
  end of the file);
- the packets must reach the duration the header declares, within
  `DURATION_SLACK_SECONDS` (or `DURATION_SLACK_SHARE` of it when larger).

Accepted:
- video (feature, trailer): MP4 with H.264 video and AAC audio, WebM with VP8,
  VP9 or AV1 video and Opus or Vorbis audio; audio is optional (silent films);
- posters: JPEG, PNG or WebP, at most `MAX_POSTER_PIXELS`.
Anything else raises `UnsupportedMedia` (415 `unsupported_media_type`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import filetype  # type: ignore[import-untyped]

from cinema.errors import UnsupportedMediaType
from cinema.media.errors import TruncatedMedia, UnsupportedMedia

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
#: How far the last packet may end before the declared duration (encoder padding, edit lists).
DURATION_SLACK_SECONDS = 1.0
DURATION_SLACK_SHARE = 0.01

#: EBML ids (Matroska/WebM): the EBML header and the Segment holding everything else.
_EBML_HEADER = 0x1A45DFA3
_EBML_SEGMENT = 0x18538067


@dataclass(frozen=True)
class MediaInfo:
    """What the bytes are: the type stored as the asset's `content_type`, and what was read."""

    content_type: str
    extension: str
    codecs: str
    width: int
    height: int
    duration_seconds: float | None = None


def _refuse(what: str, reason: str) -> UnsupportedMedia:
    return UnsupportedMedia(f"{what} {reason}")


def sniff(path: Path) -> str | None:
    """The MIME type recognised from the file's first bytes, or None."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    kind = filetype.guess(head) if head else None
    return None if kind is None else str(kind.mime)


def probe_video(path: Path) -> MediaInfo:
    """Check a feature or trailer file; raises `UnsupportedMedia` unless it is an accepted video."""
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
            _check_packets(container, duration)
        if not container_complete(path, mime):
            raise _truncated("its container is shorter than its headers say.")
    except UnsupportedMediaType:
        raise
    except Exception as exc:  # FFmpeg refused the bytes: whatever it says, they are not a video we take.
        log.info("video probe failed: %s", exc)
        raise _refuse(what, "the file could not be read as one.") from None
    codecs = ",".join([video_name, *audio_names[:1]])
    return MediaInfo(mime, EXTENSIONS[mime], codecs, width, height, round(duration, 3))


def _truncated(reason: str) -> TruncatedMedia:
    return TruncatedMedia(f"The video is truncated (an incomplete upload?): {reason} Upload the whole file.")


def _check_packets(container: Any, duration: float) -> None:
    """Read every packet (after the first picture was decoded); refuse a cut or short stream.

    Raises `TruncatedMedia` when a packet is flagged corrupt (FFmpeg's mark of
    a packet cut by the end of the file) or the packets end well before the
    declared `duration`.
    """
    container.seek(0)
    end = 0.0
    for packet in container.demux():
        if packet.size == 0:  # the demuxer's end-of-stream marker
            continue
        if packet.is_corrupt:
            raise _truncated("a packet is cut short.")
        if packet.pts is not None and packet.time_base:
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    start = float(container.start_time or 0) / 1_000_000
    slack = max(DURATION_SLACK_SECONDS, DURATION_SLACK_SHARE * duration)
    if end - start < duration - slack:
        raise _truncated(f"its packets end at {end - start:.3f} s of the {duration:.3f} s it declares.")


def container_complete(path: Path, mime: str) -> bool:
    """False when the container's own size fields reach past the end of the file.

    MP4: the top-level boxes (ISO/IEC 14496-12: a 32-bit size, or 1 and a
    64-bit size, or 0 for "to the end") must tile the file. WebM: the
    `Segment` element after the EBML header must fit in the file (an unknown
    size, as a live stream writes, passes). Reads a few header bytes per box.
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        if mime == "video/mp4":
            position = 0
            while position < size:
                handle.seek(position)
                head = handle.read(16)
                if len(head) < 8:
                    return False
                box = int.from_bytes(head[:4], "big")
                if box == 0:
                    return True
                if box == 1:
                    if len(head) < 16:
                        return False
                    box = int.from_bytes(head[8:16], "big")
                if box < 8:
                    return False
                position += box
            return position == size
        if mime == "video/webm":
            head = handle.read(64)
            element = _ebml_element(head, 0)
            if element is None or element[0] != _EBML_HEADER or element[2] is None:
                return False
            segment = _ebml_element(head, element[1] + element[2])
            if segment is None or segment[0] != _EBML_SEGMENT:
                return False
            return segment[2] is None or segment[1] + segment[2] <= size
    return True


def _ebml_vint(data: bytes, at: int) -> tuple[int, int, bool] | None:
    """(value without its length marker, byte length, all value bits set) of the EBML varint at `at`."""
    if at >= len(data) or data[at] == 0:
        return None
    length = 8 - data[at].bit_length() + 1
    if at + length > len(data):
        return None
    value = int.from_bytes(data[at : at + length], "big")
    value &= (1 << (7 * length)) - 1
    return value, length, value == (1 << (7 * length)) - 1


def _ebml_element(data: bytes, at: int) -> tuple[int, int, int | None] | None:
    """(id, offset of its data, data size or None when unknown) of the EBML element at `at`."""
    if at >= len(data) or data[at] == 0:
        return None
    id_length = 8 - data[at].bit_length() + 1
    if id_length > 4 or at + id_length > len(data):
        return None
    element_id = int.from_bytes(data[at : at + id_length], "big")
    size = _ebml_vint(data, at + id_length)
    if size is None:
        return None
    value, length, unknown = size
    return element_id, at + id_length + length, None if unknown else value


def _codec_name(context: Any) -> str:
    return str(context.codec.canonical_name)


def _duration(container: Any, stream: Any) -> float | None:
    if container.duration:
        return float(Fraction(int(container.duration), 1_000_000))  # AV_TIME_BASE: microseconds
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def probe_poster(path: Path) -> MediaInfo:
    """Check a poster file; raises `UnsupportedMedia` unless it is a JPEG, PNG or WebP picture."""
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
