"""The catalog and comments edited in the admin, through the catalog and comment services.

What the API then shows is what the admin did: a movie created with the
API's validation, genres linked one at a time, comments deleted with their
replies and the counters still true. (Refusals: test_admin_writes.py.)
"""

from __future__ import annotations

from typing import Any

from cinema.catalog.tables import Certification, Genre, Movie, MovieGenre
from cinema.interactions.tables import Comment
from tests.ops.admin_helpers import build_world, csrf, open_admin_session


async def _detail(client: Any, movie_id: int) -> dict[str, Any]:
    response = await client.get(f"/movies/{movie_id}")
    assert response.status_code == 200, response.text
    detail: dict[str, Any] = response.json()
    return detail


async def test_a_movie_added_in_the_admin_is_the_apis_movie(client, make_user) -> None:
    world = await build_world(make_user)
    await open_admin_session(client, world.moderator.id)
    cert = await Certification.select(Certification.id).where(Certification.name == "R").first().run()
    assert cert is not None
    # What the "Add row" form posts: every field, the server-kept ones at the defaults `/new/` gave.
    form = (await client.get("/admin/api/tables/movies/new/")).json()
    form.update(
        name="  Thief  ",
        year=1981,
        time=123,
        imdb=7.4,
        votes=10,
        description="A safecracker.",
        price="3.99",
        certification=cert["id"],
    )

    created = await client.post("/admin/api/tables/movies/", json=form, headers=csrf(client))

    assert created.status_code == 201, created.text
    movie_id = created.json()[0]["id"]
    detail = await _detail(client, movie_id)
    assert (detail["name"], detail["price"], detail["certification"]["name"]) == ("Thief", "3.99", "R")
    assert (detail["likes"], detail["genres"]) == (0, [])


async def test_genres_are_linked_and_unlinked_one_at_a_time(client, make_user) -> None:
    world = await build_world(make_user)
    await open_admin_session(client, world.moderator.id)
    horror = await Genre.select(Genre.id).where(Genre.name == "Horror").first().run()
    assert horror is not None
    before = await _detail(client, world.movie_id)
    assert [g["name"] for g in before["genres"]] == ["Crime", "Drama"]

    added = await client.post(
        "/admin/api/tables/movie_genres/",
        json={"movie": world.movie_id, "genre": horror["id"]},
        headers=csrf(client),
    )

    assert added.status_code == 201, added.text
    after = await _detail(client, world.movie_id)
    assert [g["name"] for g in after["genres"]] == ["Crime", "Drama", "Horror"]
    assert after["updated_at"] > before["updated_at"]

    crime = await MovieGenre.select(MovieGenre.id).where(MovieGenre.movie == world.movie_id).first().run()
    assert crime is not None
    removed = await client.delete(f"/admin/api/tables/movie_genres/{crime['id']}/", headers=csrf(client))

    assert removed.status_code == 204, removed.text
    assert [g["name"] for g in (await _detail(client, world.movie_id))["genres"]] == ["Drama", "Horror"]


async def test_entities_are_created_renamed_and_deleted_through_the_catalog(client, make_user) -> None:
    world = await build_world(make_user)
    await open_admin_session(client, world.moderator.id)

    created = await client.post("/admin/api/tables/genres/", json={"name": " Noir "}, headers=csrf(client))
    assert created.status_code == 201, created.text
    genre_id = created.json()[0]["id"]
    renamed = await client.patch(
        f"/admin/api/tables/genres/{genre_id}/", json={"name": "Neo-noir"}, headers=csrf(client)
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Neo-noir"
    listed = (await client.get("/genres")).json()
    assert {"id": genre_id, "name": "Neo-noir", "movie_count": 0} in listed

    deleted = await client.delete(f"/admin/api/tables/genres/{genre_id}/", headers=csrf(client))
    assert deleted.status_code == 204
    assert await Genre.count().where(Genre.id == genre_id).run() == 0


async def test_deleting_comments_in_the_admin_keeps_the_counters_true(client, make_user) -> None:
    world = await build_world(make_user)
    second = Comment(user=world.buyer.id, movie=world.movie_id, text="Another.")  # counted below, by hand
    await second.save()
    await (
        Movie.update({Movie.comments_count: Movie.comments_count + 1}).where(Movie.id == world.movie_id).run()
    )
    await open_admin_session(client, world.moderator.id)
    assert (await _detail(client, world.movie_id))["comments_count"] == 3

    reply = await client.delete(f"/admin/api/tables/comments/{world.reply_id}/", headers=csrf(client))

    assert reply.status_code == 204, reply.text
    assert (await _detail(client, world.movie_id))["comments_count"] == 2
    parent = await Comment.select(Comment.replies_count).where(Comment.id == world.comment_id).first().run()
    assert parent == {"replies_count": 0}

    # A comment with replies goes with them, and the movie counts that.
    await Comment(user=world.buyer.id, movie=world.movie_id, text="Re.", parent=world.comment_id).save()
    await (
        Movie.update({Movie.comments_count: Movie.comments_count + 1}).where(Movie.id == world.movie_id).run()
    )
    thread = await client.delete(f"/admin/api/tables/comments/{world.comment_id}/", headers=csrf(client))

    assert thread.status_code == 204, thread.text
    assert (await _detail(client, world.movie_id))["comments_count"] == 1
    assert await Comment.count().where(Comment.movie == world.movie_id).run() == 1


async def test_a_movie_in_carts_is_deleted_by_the_action_not_the_delete_button(client, make_user) -> None:
    world = await build_world(make_user)
    await open_admin_session(client, world.moderator.id)

    refused = await client.delete(f"/admin/api/tables/movies/{world.other_movie_id}/", headers=csrf(client))

    assert refused.status_code == 422
    assert refused.json()["code"] == "movie_in_carts"
    assert "Delete movie action" in refused.json()["custom_form_error"]
    forms = [f["name"] for f in (await client.get("/admin/api/forms/")).json()]
    assert forms == ["Delete movie"]  # a MODERATOR's only action
    done = await client.post(
        "/admin/api/forms/delete-movie/",
        json={"movie_id": world.other_movie_id, "remove_from_carts": True},
        headers=csrf(client),
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"custom_form_success": f"Movie #{world.other_movie_id} deleted."}
    assert (await client.get(f"/movies/{world.other_movie_id}")).status_code == 404
