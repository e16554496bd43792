"""Fixtures for the media tests: real sample files made with PyAV, movies, purchases, assets."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from cinema.catalog.tables import Movie
from cinema.clock import utcnow
from cinema.commerce.tables import Order, OrderItem, OrderStatus, Purchase
from cinema.config import get_settings
from cinema.entitlements.service import PaidItem, grant_purchases
from cinema.media import assets
from cinema.media.samples import write_poster, write_sample
from cinema.media.schemas import AssetOut
from cinema.media.tables import MediaKind
from tests.ops.conftest import MotoS3, make_movie, moto_s3, moto_server, serve
from tests.ops.test_admin_browser import browser


@pytest.fixture(autouse=True)
def empty_media_folders() -> None:
    """Each test starts with no stored media (the folders are shared by the whole run)."""
    settings = get_settings()
    for folder in (settings.media_dir / "posters", settings.private_media_dir):
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Samples:
    """Real media files: a 3 s WebM feature, a 2 s MP4 trailer, posters, and refused files."""

    webm: Path
    webm_other: Path
    mp4: Path
    png: Path
    jpeg: Path
    text: Path
    fake_webm: Path
    silent_webm: Path
    truncated_webm: Path
    truncated_mp4: Path
    folder: Path


@pytest.fixture(scope="session")
def samples() -> Samples:
    folder = Path(tempfile.mkdtemp(prefix="cinema-media-samples-"))
    text = folder / "notes.webm"
    text.write_text("not a video at all, whatever the name says\n" * 20)
    webm = write_sample(folder / "feature.webm", seconds=3.0)
    fake = folder / "fake.webm"
    # A real WebM header followed by garbage: recognised as WebM, not decodable.
    fake.write_bytes(webm.read_bytes()[:200] + b"\x00garbage" * 500)
    # Uploads cut short: FFmpeg opens and decodes both (the MP4 has its index first).
    truncated_webm = folder / "truncated.webm"
    truncated_webm.write_bytes(webm.read_bytes()[:-300])
    whole_mp4 = write_sample(folder / "whole.mp4", seconds=2.0, container="mp4", faststart=True)
    truncated_mp4 = folder / "truncated.mp4"
    truncated_mp4.write_bytes(whole_mp4.read_bytes()[: whole_mp4.stat().st_size * 3 // 4])
    return Samples(
        webm=webm,
        webm_other=write_sample(folder / "feature2.webm", seconds=2.0, hue=3),
        mp4=write_sample(folder / "trailer.mp4", seconds=2.0, container="mp4"),
        png=write_poster(folder / "poster.png"),
        jpeg=write_poster(folder / "poster.jpg", kind="jpeg", hue=2),
        text=text,
        fake_webm=fake,
        silent_webm=write_sample(folder / "silent.webm", seconds=1.0, audio=False),
        truncated_webm=truncated_webm,
        truncated_mp4=truncated_mp4,
        folder=folder,
    )


Attach = Callable[[int, MediaKind, Path], Awaitable[AssetOut]]


@pytest.fixture
def attach() -> Attach:
    """`await attach(movie_id, kind, path)`: the file made the movie's ready asset of that kind."""

    async def run(movie_id: int, kind: MediaKind, path: Path) -> AssetOut:
        return (await assets.ingest_file(movie_id, kind, path, uploaded_by=None)).asset

    return run


async def buy(user_id: int, movie_id: int) -> int:
    """A paid order for the movie, its purchase row and entitlement (what a paid payment writes); the order id."""
    row = await Movie.select(Movie.price).where(Movie.id == movie_id).first().run()
    assert row is not None
    price = Decimal(str(row["price"]))
    order = Order(user=user_id, status=OrderStatus.PAID, total_amount=price, created_at=utcnow())
    await order.save()
    item = OrderItem(order=order.id, movie=movie_id, price_at_order=price)
    await item.save()
    await Purchase(user=user_id, movie=movie_id, order=order.id).save()
    await grant_purchases(user_id, [PaidItem(movie_id, int(item.id))], payment_id=None)
    return int(order.id)


__all__ = [
    "MotoS3",
    "Samples",
    "browser",
    "buy",
    "make_movie",
    "moto_s3",
    "moto_server",
    "serve",
]
