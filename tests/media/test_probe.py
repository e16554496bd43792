"""Content probing (docs/media.md, "Accepted content"): real files encoded with PyAV,
one per accepted codec, and combinations that are refused whatever their name."""

from __future__ import annotations

from pathlib import Path

import pytest

from cinema.errors import UnsupportedMediaType
from cinema.media.probe import container_complete, probe_poster, probe_video
from cinema.media.samples import write_poster, write_sample


@pytest.mark.parametrize(
    ("container", "encoders", "codecs", "content_type"),
    [
        ("webm", ("libvpx", "libopus"), "vp8,opus", "video/webm"),
        ("webm", ("libvpx-vp9", "libopus"), "vp9,opus", "video/webm"),
        ("webm", ("libsvtav1", "libopus"), "av1,opus", "video/webm"),
        ("mp4", ("libx264", "aac"), "h264,aac", "video/mp4"),
        ("mp4", ("libx264", None), "h264", "video/mp4"),
    ],
)
def test_accepted_videos(tmp_path: Path, container, encoders, codecs, content_type) -> None:
    path = write_sample(tmp_path / f"v.{container}", seconds=1.0, container=container, encoders=encoders)
    info = probe_video(path)
    assert info.codecs == codecs
    assert info.content_type == content_type
    assert (info.width, info.height) == (320, 180)
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize(
    ("container", "encoders", "reason"),
    [
        ("mp4", ("libvpx-vp9", "libopus"), "video codec is vp9"),  # VP9 in MP4: not an accepted pairing
        ("matroska", ("libx264", "aac"), "video/x-matroska"),  # Matroska is not WebM
        ("mp4", ("libx264", "libopus"), "audio codec is opus"),
    ],
)
def test_refused_videos(tmp_path: Path, container, encoders, reason) -> None:
    path = write_sample(tmp_path / "v.bin", seconds=1.0, container=container, encoders=encoders)
    with pytest.raises(UnsupportedMediaType) as refused:
        probe_video(path)
    assert reason in refused.value.detail
    assert refused.value.code == "unsupported_media_type"


@pytest.fixture(scope="module")
def whole_videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("whole")
    return {
        "webm": write_sample(folder / "v.webm", seconds=3.0),
        "mp4": write_sample(folder / "v.mp4", seconds=3.0, container="mp4", faststart=True),
    }


@pytest.mark.parametrize("container", ["webm", "mp4"])
@pytest.mark.parametrize("kept", [0.2, 0.5, 0.9, 0.99, -200, -10, -1])
def test_a_truncated_video_is_refused(tmp_path: Path, whole_videos, container, kept) -> None:
    """An upload cut short (at a share of its size, or a few bytes before its end) is `truncated_media`."""
    whole = whole_videos[container]
    info = probe_video(whole)
    assert info.duration_seconds == pytest.approx(3.0, abs=0.1)
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{container}"
    cut.write_bytes(data[: int(len(data) * kept)] if kept > 0 else data[:kept])
    with pytest.raises(UnsupportedMediaType) as refused:
        probe_video(cut)
    assert refused.value.code == "truncated_media"
    assert refused.value.status_code == 415
    assert refused.value.detail.startswith("The video is truncated (an incomplete upload?):")


def test_the_index_first_mp4_is_whole(whole_videos) -> None:
    mp4 = whole_videos["mp4"]
    data = mp4.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # what made the cut files readable by FFmpeg
    assert container_complete(mp4, "video/mp4")
    assert container_complete(whole_videos["webm"], "video/webm")


def test_posters(tmp_path: Path) -> None:
    png = probe_poster(write_poster(tmp_path / "p.png", width=120, height=180))
    assert (png.content_type, png.width, png.height, png.extension) == ("image/png", 120, 180, "png")
    jpeg = probe_poster(write_poster(tmp_path / "p.jpg", kind="jpeg"))
    assert (jpeg.content_type, jpeg.extension) == ("image/jpeg", "jpg")
    webp = probe_poster(write_poster(tmp_path / "p.webp", kind="webp"))
    assert (webp.content_type, webp.codecs, webp.width) == ("image/webp", "webp", 200)
    gif = tmp_path / "p.gif"
    gif.write_bytes(
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x00\x00\x00\x00\x00,"
    )
    with pytest.raises(UnsupportedMediaType):
        probe_poster(gif)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedMediaType):
        probe_poster(empty)
