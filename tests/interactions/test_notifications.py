"""Replies and likes notify the comment's author in the app and by email; /notifications."""

from __future__ import annotations

from typing import Any

from cinema.interactions.tables import Notification
from tests.conftest import text_of


async def _comment(client: Any, user: Any, movie: int, text: str, parent_id: int | None = None) -> int:
    body: dict[str, Any] = {"text": text, "parent_id": parent_id}
    response = await client.post(f"/movies/{movie}/comments", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_reply_notifies_the_parents_author_in_app_and_by_email(
    client: Any, make_user: Any, movie: int, outbox: Any
) -> None:
    alice, bob = await make_user(email="alice@example.com"), await make_user(email="bob@example.com")
    root = await _comment(client, alice, movie, "What a film.")

    reply = await _comment(client, bob, movie, "Agreed, the ending!", parent_id=root)

    listed = await client.get("/notifications", headers=alice.headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 1
    notice = body["items"][0]
    assert notice["kind"] == "comment_reply"
    # The actor appears under their public name (a neutral handle here), never their email.
    assert (
        notice["message"]
        == f'Member {bob.id} replied to your comment on "The Test Picture": "Agreed, the ending!"'
    )
    assert (notice["actor_id"], notice["comment_id"], notice["movie_id"]) == (bob.id, reply, movie)
    assert notice["is_read"] is False
    assert notice["created_at"].endswith(("+00:00", "Z"))
    assert (await client.get("/notifications", headers=bob.headers)).json()["total"] == 0

    mails = await outbox()
    assert len(mails) == 1
    assert mails[0]["To"] == "alice@example.com"
    assert mails[0]["Subject"] == "New activity on your comment"
    text = text_of(mails[0])
    assert notice["message"] in text
    assert f"http://cinema.test/movies/{movie}" in text


async def test_like_notifies_the_author_once(client: Any, make_user: Any, movie: int, outbox: Any) -> None:
    alice, bob = await make_user(email="alice@example.com"), await make_user(email="bob@example.com")
    root = await _comment(client, alice, movie, "Like this")

    await client.put(f"/comments/{root}/like", headers=bob.headers)
    await client.put(f"/comments/{root}/like", headers=bob.headers)  # idempotent: no second notice

    rows = await Notification.select(Notification.kind, Notification.message).run()
    liked = f'Member {bob.id} liked your comment on "The Test Picture".'
    assert rows == [{"kind": "comment_like", "message": liked}]
    listed = (await client.get("/notifications", headers=alice.headers)).json()
    assert [(n["kind"], n["comment_id"], n["actor_id"]) for n in listed["items"]] == [
        ("comment_like", root, bob.id)
    ]
    mails = await outbox()
    assert [m["To"] for m in mails] == ["alice@example.com"]
    assert liked in text_of(mails[0])


async def test_own_reply_and_own_like_notify_no_one(
    client: Any, make_user: Any, movie: int, outbox: Any
) -> None:
    alice = await make_user()
    root = await _comment(client, alice, movie, "talking to myself")
    await _comment(client, alice, movie, "still me", parent_id=root)
    assert (await client.put(f"/comments/{root}/like", headers=alice.headers)).status_code == 200

    assert await Notification.count().run() == 0
    assert await outbox() == []


async def test_a_rejected_reply_sends_nothing(
    client: Any, make_user: Any, make_movie: Any, outbox: Any
) -> None:
    alice, bob = await make_user(), await make_user()
    movie_a, movie_b = await make_movie(), await make_movie()
    root = await _comment(client, alice, movie_a, "on A")

    response = await client.post(
        f"/movies/{movie_b}/comments", json={"text": "hi", "parent_id": root}, headers=bob.headers
    )

    assert response.status_code == 422
    assert await Notification.count().run() == 0
    assert await outbox() == []


async def test_unread_filter_read_one_and_read_all(client: Any, make_user: Any, movie: int) -> None:
    alice, bob = await make_user(), await make_user()
    root = await _comment(client, alice, movie, "root")
    for n in range(3):
        await _comment(client, bob, movie, f"reply {n}", parent_id=root)
    await client.put(f"/comments/{root}/like", headers=bob.headers)

    everything = (await client.get("/notifications", headers=alice.headers)).json()
    assert everything["total"] == 4
    assert [n["kind"] for n in everything["items"]] == ["comment_like"] + [
        "comment_reply"
    ] * 3  # newest first
    assert [n["message"].rsplit('"', 2)[-2] for n in everything["items"][1:]] == [
        "reply 2",
        "reply 1",
        "reply 0",
    ]
    newest_id = everything["items"][0]["id"]

    read = await client.post(f"/notifications/{newest_id}/read", headers=alice.headers)
    assert read.status_code == 204
    assert (await client.post(f"/notifications/{newest_id}/read/", headers=alice.headers)).status_code == 204

    unread = (await client.get("/notifications", params={"unread": "true"}, headers=alice.headers)).json()
    assert unread["total"] == 3
    assert newest_id not in [n["id"] for n in unread["items"]]
    paged = (
        await client.get("/notifications/", params={"per_page": 1, "page": 2}, headers=alice.headers)
    ).json()
    assert (paged["total"], paged["pages"], len(paged["items"])) == (4, 4, 1)

    assert (await client.post("/notifications/read-all", headers=alice.headers)).status_code == 204
    unread = (await client.get("/notifications?unread=true", headers=alice.headers)).json()
    assert (unread["total"], unread["items"]) == (0, [])
    assert await Notification.count().where(Notification.is_read.eq(True)).run() == 4


async def test_another_users_notification_is_404(client: Any, make_user: Any, movie: int) -> None:
    alice, bob = await make_user(), await make_user()
    root = await _comment(client, alice, movie, "root")
    await _comment(client, bob, movie, "reply", parent_id=root)
    notice_id = (await client.get("/notifications", headers=alice.headers)).json()["items"][0]["id"]

    response = await client.post(f"/notifications/{notice_id}/read", headers=bob.headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "The notification does not exist.", "code": "notification_not_found"}
    assert (await client.post("/notifications/999999/read", headers=bob.headers)).status_code == 404
    # bob's read-all does not touch alice's notification
    assert (await client.post("/notifications/read-all", headers=bob.headers)).status_code == 204
    row = await Notification.select(Notification.is_read).where(Notification.id == notice_id).first().run()
    assert row == {"is_read": False}


async def test_reply_email_goes_through_real_smtp(
    client: Any, make_user: Any, movie: int, smtp_sink: Any
) -> None:
    alice, bob = await make_user(email="alice@example.com"), await make_user(email="bob@example.com")
    root = await _comment(client, alice, movie, "SMTP test")

    await _comment(client, bob, movie, "Over the wire", parent_id=root)

    messages = await smtp_sink.wait_for(1)
    assert len(messages) == 1
    assert messages[0]["To"] == "alice@example.com"
    assert messages[0]["Subject"] == "New activity on your comment"
    assert f'Member {bob.id} replied to your comment on "The Test Picture": "Over the wire"' in text_of(
        messages[0]
    )
