"""`cinema movies media`: upload (same bytes again is a no-op that says so), list, remove, --json.

Sync tests: the CLI runs its own event loop (see tests/cli_support.py).
"""

from __future__ import annotations

import json

from cinema.media.tables import MediaAsset
from tests.cli_support import in_cli_loop, invoke_cli
from tests.media.conftest import make_movie


def _rows() -> list[dict]:
    return in_cli_loop(lambda: MediaAsset.select(MediaAsset.kind, MediaAsset.status, MediaAsset.sha256).run())


def test_upload_list_remove(samples) -> None:
    movie = in_cli_loop(make_movie)
    first = invoke_cli(
        "movies", "media", "upload", str(movie), str(samples.webm), "--kind", "feature", "--json"
    )
    assert first.exit_code == 0, first.output
    body = json.loads(first.stdout)
    assert body["unchanged"] is False
    assert body["asset"]["kind"] == "feature"
    assert body["asset"]["codecs"] == "vp9,opus"

    again = invoke_cli("movies", "media", "upload", str(movie), str(samples.webm), "--kind", "feature")
    assert again.exit_code == 0, again.output
    assert "Unchanged" in again.stdout
    assert "nothing uploaded" in " ".join(again.stdout.split())
    assert len(_rows()) == 1

    listed = invoke_cli("movies", "media", "list", str(movie), "--json")
    assert [(a["kind"], a["status"]) for a in json.loads(listed.stdout)] == [("feature", "ready")]
    table = invoke_cli("movies", "media", "list", str(movie))
    assert "ready" in table.stdout

    removed = invoke_cli("movies", "media", "remove", str(movie), "--kind", "feature", "--json")
    assert removed.exit_code == 0
    assert json.loads(removed.stdout) == {"movie_id": movie, "kind": "feature", "removed": True}
    assert _rows() == []
    missing = invoke_cli("movies", "media", "remove", str(movie), "--kind", "feature")
    assert missing.exit_code == 1
    assert "no_media" in missing.stderr


def test_bad_uploads_exit_1_and_store_nothing(samples) -> None:
    movie = in_cli_loop(make_movie)
    wrong = invoke_cli("movies", "media", "upload", str(movie), str(samples.text), "--kind", "trailer")
    assert wrong.exit_code == 1
    assert "unsupported_media_type" in wrong.stderr
    kind = invoke_cli("movies", "media", "upload", str(movie), str(samples.png), "--kind", "cover")
    assert kind.exit_code == 2
    unknown = invoke_cli("movies", "media", "upload", "999999", str(samples.png), "--kind", "poster")
    assert unknown.exit_code == 1
    assert _rows() == []
    cleaned = invoke_cli("movies", "media", "cleanup", "--json")
    assert json.loads(cleaned.stdout) == {"abandoned_uploads": 0, "orphaned_objects": 0}


def test_deleting_a_movie_removes_its_files(samples) -> None:
    from tests.media.test_removal import stored_files

    movie = in_cli_loop(make_movie)
    for kind, path in (("feature", samples.webm), ("poster", samples.png)):
        done = invoke_cli("movies", "media", "upload", str(movie), str(path), "--kind", kind, "--json")
        assert done.exit_code == 0, done.output
    assert len(stored_files()) == 2
    deleted = invoke_cli("movies", "delete", str(movie), "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert stored_files() == []
    assert _rows() == []
