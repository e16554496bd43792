"""Comments and replies: listing, posting, validation, deletion rights and counters."""

from __future__ import annotations

from typing import Any

import pytest

from cinema.accounts.actor import GroupName
from cinema.accounts.tables import UserProfile
from cinema.interactions.tables import Comment, CommentLike, Notification
from tests.interactions.conftest import comment_counters_match, counters, real_counts


async def _post(
    client: Any, user: Any, movie: int, text: str, parent_id: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if parent_id is not None:
        body["parent_id"] = parent_id
    response = await client.post(f"/movies/{movie}/comments", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_post_comment_answers_201_with_the_comment(client: Any, make_user: Any, movie: int) -> None:
    user = await make_user(email="Ann.Smith@Example.com")

    created = await _post(client, user, movie, "  A fine film.  \n")

    assert created["text"] == "A fine film."
    assert created["movie_id"] == movie
    assert created["parent_id"] is None
    assert created["author_id"] == user.id
    # No display name chosen: a neutral handle, nothing from the email.
    assert created["author_name"] == f"Member {user.id}"
    assert "ann" not in str(created).lower()
    assert (created["replies_count"], created["likes"]) == (0, 0)
    assert created["created_at"].endswith(("+00:00", "Z"))
    assert (await counters(movie))["comments_count"] == 1


async def test_author_name_is_the_display_name_chosen_in_the_profile(
    client: Any, make_user: Any, movie: int
) -> None:
    user = await make_user(email="ann.smith@example.com")
    # The real name stays private: only the display name is public.
    await UserProfile(user=user.id, first_name="Ann", last_name="Smith").save()
    chosen = await client.patch(
        "/accounts/me/profile", headers=user.headers, json={"display_name": "  Cinéphile   42 "}
    )
    assert chosen.status_code == 200, chosen.text

    created = await _post(client, user, movie, "Hello")

    assert created["author_name"] == "Cinéphile 42"
    listed = (await client.get(f"/movies/{movie}/comments")).json()
    assert listed["items"][0]["author_name"] == "Cinéphile 42"
    assert "Smith" not in str(listed)
    assert "ann.smith" not in str(listed)

    # Clearing it brings back the neutral handle.
    await client.patch("/accounts/me/profile", headers=user.headers, json={"display_name": None})
    listed = (await client.get(f"/movies/{movie}/comments")).json()
    assert listed["items"][0]["author_name"] == f"Member {user.id}"


async def test_list_is_top_level_newest_first_and_paged(client: Any, make_user: Any, movie: int) -> None:
    alice, bob = await make_user(), await make_user()
    first = await _post(client, alice, movie, "first")
    second = await _post(client, bob, movie, "second")
    third = await _post(client, alice, movie, "third")
    await _post(client, bob, movie, "a reply", parent_id=first["id"])
    await _post(client, alice, movie, "another reply", parent_id=first["id"])
    await client.put(f"/comments/{first['id']}/like", headers=bob.headers)

    page1 = await client.get(f"/movies/{movie}/comments", params={"per_page": 2})
    assert page1.status_code == 200
    body = page1.json()
    assert [c["id"] for c in body["items"]] == [third["id"], second["id"]]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 2, 3, 2)
    assert all(c["liked_by_me"] is None for c in body["items"])  # anonymous caller
    assert all(c["created_at"].endswith(("+00:00", "Z")) for c in body["items"])

    page2 = (await client.get(f"/movies/{movie}/comments/", params={"page": 2, "per_page": 2})).json()
    assert [c["id"] for c in page2["items"]] == [first["id"]]
    assert page2["items"][0]["replies_count"] == 2
    assert page2["items"][0]["likes"] == 1

    past_end = (await client.get(f"/movies/{movie}/comments", params={"page": 9})).json()
    assert (past_end["items"], past_end["total"]) == ([], 3)

    as_bob = (await client.get(f"/movies/{movie}/comments", headers=bob.headers)).json()
    assert {c["id"]: c["liked_by_me"] for c in as_bob["items"]} == {
        third["id"]: False,
        second["id"]: False,
        first["id"]: True,
    }
    # Every comment counts on the movie, replies included.
    assert (await counters(movie))["comments_count"] == 5


async def test_replies_are_listed_oldest_first(client: Any, make_user: Any, movie: int) -> None:
    alice, bob = await make_user(), await make_user()
    root = await _post(client, alice, movie, "root")
    replies = [await _post(client, bob, movie, f"reply {n}", parent_id=root["id"]) for n in range(3)]
    nested = await _post(client, alice, movie, "reply to a reply", parent_id=replies[0]["id"])

    response = await client.get(f"/comments/{root['id']}/replies", params={"per_page": 2})
    assert response.status_code == 200
    body = response.json()
    assert [c["text"] for c in body["items"]] == ["reply 0", "reply 1"]
    assert (body["total"], body["pages"]) == (3, 2)
    assert body["items"][0]["replies_count"] == 1
    assert body["items"][0]["parent_id"] == root["id"]

    deeper = (await client.get(f"/comments/{replies[0]['id']}/replies/")).json()
    assert [c["id"] for c in deeper["items"]] == [nested["id"]]
    missing = await client.get("/comments/999999/replies")
    assert (missing.status_code, missing.json()["code"]) == (404, "comment_not_found")


async def test_parent_must_be_a_comment_of_the_same_movie(
    client: Any, make_user: Any, make_movie: Any
) -> None:
    user = await make_user()
    movie_a, movie_b = await make_movie(), await make_movie()
    on_a = await _post(client, user, movie_a, "on A")

    wrong_movie = await client.post(
        f"/movies/{movie_b}/comments", json={"text": "reply", "parent_id": on_a["id"]}, headers=user.headers
    )
    assert wrong_movie.status_code == 422
    assert wrong_movie.json()["code"] == "invalid_parent"

    unknown = await client.post(
        f"/movies/{movie_a}/comments", json={"text": "reply", "parent_id": 999999}, headers=user.headers
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "comment_not_found")

    assert await Comment.count().run() == 1
    assert (await counters(movie_a))["comments_count"] == 1
    assert (await counters(movie_b))["comments_count"] == 0
    assert await comment_counters_match(movie_a) == []


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "   \n\t "},
        {"text": "x" * 5001},
        {},
        {"text": None},
        {"text": "ok", "parent_id": 0},
    ],
)
async def test_bad_comment_body_is_422(client: Any, make_user: Any, movie: int, body: dict[str, Any]) -> None:
    user = await make_user()
    response = await client.post(f"/movies/{movie}/comments", json=body, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert await Comment.count().run() == 0


async def test_longest_comment_is_accepted_after_trimming(client: Any, make_user: Any, movie: int) -> None:
    user = await make_user()
    created = await _post(client, user, movie, "  " + "y" * 5000 + "  ")
    assert len(created["text"]) == 5000


async def test_user_cannot_delete_another_users_comment(client: Any, make_user: Any, movie: int) -> None:
    author, other = await make_user(), await make_user()
    comment = await _post(client, author, movie, "mine")

    response = await client.delete(f"/comments/{comment['id']}", headers=other.headers)

    assert response.status_code == 403
    assert response.json()["code"] == "not_comment_author"
    assert await Comment.count().run() == 1
    assert (await counters(movie))["comments_count"] == 1


async def test_author_deletes_own_reply_and_parent_count_drops(
    client: Any, make_user: Any, movie: int
) -> None:
    alice, bob = await make_user(), await make_user()
    root = await _post(client, alice, movie, "root")
    reply = await _post(client, bob, movie, "reply", parent_id=root["id"])

    response = await client.delete(f"/comments/{reply['id']}/", headers=bob.headers)

    assert response.status_code == 204
    listed = (await client.get(f"/movies/{movie}/comments")).json()
    assert listed["items"][0]["replies_count"] == 0
    assert (await counters(movie))["comments_count"] == 1
    assert (await client.delete(f"/comments/{reply['id']}", headers=bob.headers)).status_code == 404


@pytest.mark.parametrize("group", [GroupName.MODERATOR, GroupName.ADMIN])
async def test_moderator_deletes_a_thread_with_its_replies(
    client: Any, make_user: Any, movie: int, group: GroupName
) -> None:
    alice, bob = await make_user(), await make_user()
    moderator = await make_user(group=group)
    keep = await _post(client, alice, movie, "stays")
    root = await _post(client, alice, movie, "goes")
    reply = await _post(client, bob, movie, "goes too", parent_id=root["id"])
    await _post(client, alice, movie, "and this", parent_id=reply["id"])
    await client.put(f"/comments/{reply['id']}/like", headers=alice.headers)
    assert await Notification.count().run() == 3  # bob's reply, alice's reply, alice's like

    response = await client.delete(f"/comments/{root['id']}", headers=moderator.headers)

    assert response.status_code == 204
    remaining = await Comment.select(Comment.id).run()
    assert remaining == [{"id": keep["id"]}]
    assert await CommentLike.count().run() == 0
    assert await Notification.count().run() == 0  # notices about deleted comments go with them
    state = await counters(movie)
    assert state["comments_count"] == 1
    assert state == await real_counts(movie)


async def test_deleting_a_middle_reply_adjusts_every_counter(client: Any, make_user: Any, movie: int) -> None:
    alice, bob = await make_user(), await make_user()
    root = await _post(client, alice, movie, "root")
    middle = await _post(client, bob, movie, "middle", parent_id=root["id"])
    for n in range(3):
        await _post(client, alice, movie, f"leaf {n}", parent_id=middle["id"])
    await _post(client, alice, movie, "sibling", parent_id=root["id"])
    assert (await counters(movie))["comments_count"] == 6

    assert (await client.delete(f"/comments/{middle['id']}", headers=bob.headers)).status_code == 204

    assert (await counters(movie))["comments_count"] == 2
    replies = (await client.get(f"/comments/{root['id']}/replies")).json()
    assert [c["text"] for c in replies["items"]] == ["sibling"]
    assert (await client.get(f"/movies/{movie}/comments")).json()["items"][0]["replies_count"] == 1
    assert await comment_counters_match(movie) == []


async def test_comment_like_is_idempotent_and_counted(client: Any, make_user: Any, movie: int) -> None:
    author, fan = await make_user(), await make_user()
    comment = await _post(client, author, movie, "like me")

    first = await client.put(f"/comments/{comment['id']}/like", headers=fan.headers)
    second = await client.put(f"/comments/{comment['id']}/like/", headers=fan.headers)
    assert first.status_code == 200
    assert first.json() == {"comment_id": comment["id"], "liked": True, "likes": 1}
    assert second.json() == {"comment_id": comment["id"], "liked": True, "likes": 1}
    assert await CommentLike.count().run() == 1

    removed = await client.delete(f"/comments/{comment['id']}/like", headers=fan.headers)
    assert removed.status_code == 204
    assert (await client.delete(f"/comments/{comment['id']}/like", headers=fan.headers)).status_code == 204
    assert await comment_counters_match(movie) == []
    listed = (await client.get(f"/movies/{movie}/comments")).json()
    assert listed["items"][0]["likes"] == 0

    for call in (
        client.put("/comments/999999/like", headers=fan.headers),
        client.delete("/comments/999999/like", headers=fan.headers),
        client.delete("/comments/999999", headers=fan.headers),
    ):
        response = await call
        assert (response.status_code, response.json()["code"]) == (404, "comment_not_found")
