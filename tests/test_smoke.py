"""The foundation: migrations ran, groups are seeded, errors have the contract's shape."""

from __future__ import annotations

from cinema.accounts.tables import UserGroup


async def test_groups_are_seeded() -> None:
    names = [row["name"] for row in await UserGroup.select(UserGroup.name).order_by(UserGroup.id).run()]
    assert names == ["USER", "MODERATOR", "ADMIN"]


async def test_unknown_path_is_json_404(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found"}


async def test_user_factory_session_authenticates(make_user) -> None:  # type: ignore[no-untyped-def]
    from cinema.accounts.sessions import authenticate

    handle = await make_user()
    caller = await authenticate(handle.headers["Authorization"].split()[1])
    assert caller.id == handle.id
    assert caller.email == handle.email
