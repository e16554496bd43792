"""No admin answer contains a secret, whatever fields, filters, sorting or joins are asked for.

Secrets: password hashes, refresh/activation/reset token hashes (and the raw
tokens handed out), PaymentIntent client secrets, admin session tokens. The
test signs in as an ADMIN (who sees every table) and asks each table's API
for every column by attribute and database name, as visible field, filter,
sort key and join, and checks every answer's body. Naming a hidden column is
refused (400), so a filter cannot be used to guess a secret either.
"""

from __future__ import annotations

from typing import Any

from cinema.admin.access import Access
from cinema.admin.tables import specs
from tests.ops.admin_helpers import admin_session_tokens, build_world, open_admin_session


async def _rows(client: Any, table: str) -> list[dict[str, Any]]:
    response = await client.get(f"/admin/api/tables/{table}/", params={"__page_size": "1000"})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


async def test_no_admin_endpoint_returns_a_secret(client, make_user) -> None:
    world = await build_world(make_user)
    await open_admin_session(client, world.admin.id)
    secrets = [*world.secrets, *await admin_session_tokens()]
    assert len(secrets) >= 12
    assert all(len(secret) >= 16 for secret in secrets)

    answers: list[tuple[str, Any, str]] = []

    async def ask(path: str, params: dict[str, str] | None = None) -> Any:
        response = await client.get(path, params=params)
        answers.append((path, params, response.text))
        return response

    for path in ("/admin/api/tables/", "/admin/api/forms/", "/admin/api/user/", "/admin/api/openapi.json"):
        await ask(path)
    for spec in specs():
        base = f"/admin/api/tables/{spec.name}/"
        hidden = spec.hidden_names()
        rows = await _rows(client, spec.name)
        assert rows, spec.name  # build_world fills every table
        assert not hidden & set(rows[0]), spec.name
        row_id = rows[0]["id"]
        for path, params in [
            (base, {"__readable": "true"}),
            (base + "schema/", None),
            (base + "new/", None),
            (base + "ids/", None),
            (base + "count/", None),
            (base + "references/", None),
            (f"{base}{row_id}/", None),
            (f"{base}{row_id}/", {"__readable": "true"}),
        ]:
            assert (await ask(path, params)).status_code == 200, (path, params)

        secret_names: set[str] = set()
        for column in spec.table._meta.columns:
            if column._meta.name in hidden:
                secret_names |= {column._meta.name, column._meta.db_column_name}
            else:
                # Any other column may be filtered on (a bad value is a 400, not a 500) and sorted by.
                for params in ({column._meta.name: "a"}, {"__order": f"-{column._meta.db_column_name}"}):
                    assert (await ask(base, params)).status_code < 500, (base, params)
            foreign = getattr(column, "_foreign_key_meta", None)
            if foreign is not None:  # joins, towards another table's secrets: refused, whatever they name
                target = foreign.resolved_references
                far = [c._meta.name for c in target._meta.columns if c._meta.secret] or ["id"]
                for name in (f"{column._meta.name}.{far[0]}", f"{column._meta.name}.user.password"):
                    for params in ({"__visible_fields": f"id,{name}"}, {"__order": name}):
                        for path in (base, f"{base}{row_id}/"):
                            if "__order" in params and path != base:
                                continue
                            response = await ask(path, params)
                            assert response.status_code == 400, (path, params, response.text)
        for name in sorted(secret_names):
            for params in (
                {"__visible_fields": f"id,{name}"},
                {"__order": name},
                {f"{name}__operator": "not_null"},
                {name: "a", f"{name}__match": "starts"},
            ):
                for path in (base, base + "count/", f"{base}{row_id}/"):
                    response = await ask(path, params)
                    # A single row's GET only reads `__visible_fields` (it ignores filters and order).
                    if not path.endswith(f"/{row_id}/") or "__visible_fields" in params:
                        # Naming a secret is refused: no rows to compare a guess against.
                        assert response.status_code == 400, (path, params, response.text)
        for name in ("payment.client_secret", "order.user.password", "user.password"):  # the usual suspects
            if name.split(".")[0] in {c._meta.name for c in spec.table._meta.columns}:
                assert (await ask(base, {"__visible_fields": f"id,{name}"})).status_code == 400

    leaks = [(path, params) for path, params, text in answers for secret in secrets if secret in text]
    assert leaks == []
    assert len(answers) > 500


async def test_a_moderator_gets_no_secret_either(client, make_user) -> None:
    world = await build_world(make_user)
    await open_admin_session(client, world.moderator.id)
    secrets = [*world.secrets, *await admin_session_tokens()]
    for spec in specs():
        for params in ({}, {"__readable": "true"}, {"__visible_fields": "id,user.password"}):
            response = await client.get(f"/admin/api/tables/{spec.name}/", params=params)
            if spec.moderator is Access.NONE:
                assert response.status_code == 403, spec.name
            assert not any(secret in response.text for secret in secrets), (spec.name, params)
