"""Benchmark users, a cart and tokens, made through the product's own service layer.

Run in a subprocess with `DATABASE_URL` (and `JWT_SECRET_KEY`) set, because
Piccolo builds its engine from the environment at import:

    python -m tests.perf.fixtures --buyers 300 --burst 20 --cart-items 5

Creates active USER accounts `<prefix>-*@bench.local` sharing one password (one
bcrypt hash at the product's work factor, so creating hundreds of users takes
seconds; each login still verifies the hash at full cost):

- `cart`: one user whose cart holds `--cart-items` movies (`carts.add_to_cart`);
- `burst`: `--burst` users for the concurrent-login bursts;
- `buyers`: one user per purchase flow, with an access token from
  `sessions.open_session` (a real session row, as a login makes) and the movie
  that user will buy (movies spread over the catalog, by id);
- `renters`: as many users for the rental flows, each with a movie to rent
  (those movies are offered for rent at a third of their price, at least 0.99).

Prints one JSON object on stdout: `{"password", "cart": {...}, "burst": [...],
"buyers": [...], "renters": [...], "movies": {...}}`; `movies` holds the ids and names the
benchmarked URLs use (a detail id, a genre id, a star name).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

PASSWORD = "Bench!Passw0rd"


async def _make(buyers: int, burst: int, cart_items: int, prefix: str) -> dict[str, Any]:
    from cinema.accounts import passwords, sessions
    from cinema.accounts.actor import GroupName
    from cinema.accounts.tables import User, UserGroup
    from cinema.catalog.tables import Movie
    from cinema.commerce import carts
    from cinema.db import close_pool, engine, open_pool
    from cli.common import OPERATOR

    await open_pool()

    async def db_rentable(ids: list[int]) -> None:
        from cinema.db import fetch
        from cinema.sql import any_of

        if ids:
            movies, values = any_of("id", ids, "int4")
            await fetch(
                f"UPDATE movies SET rental_price = GREATEST(0.99, ROUND(price / 3, 2)) WHERE {movies}",
                *values,
            )

    try:
        group = (
            await UserGroup.select(UserGroup.id).where(UserGroup.name == GroupName.USER.value).first().run()
        )
        assert group is not None, "migrations seed the groups"
        hashed = await passwords.hash_password(PASSWORD)

        async def user(email: str) -> int:
            created = await User.create_hashed(email, hashed, int(group["id"]), active=True)
            return int(created.id)

        movie_ids = [int(r["id"]) for r in await Movie.select(Movie.id).order_by(Movie.id).run()]
        cart_email = f"{prefix}-cart@bench.local"
        cart_user = await user(cart_email)
        # Evenly spaced movies, so the cart and the purchases touch the whole table.
        step = max(1, len(movie_ids) // max(1, cart_items))
        for movie_id in movie_ids[::step][:cart_items]:
            await carts.add_to_cart(OPERATOR, movie_id, user=cart_user)
        burst_users = [f"{prefix}-burst-{i}@bench.local" for i in range(burst)]
        for email in burst_users:
            await user(email)
        step = max(1, len(movie_ids) // max(1, buyers))

        async def customers(kind: str, offer: str, shift: int) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            for i in range(buyers):
                user_id = await user(f"{prefix}-{kind}-{i}@bench.local")
                pair = await sessions.open_session(user_id)
                movie_id = movie_ids[(i * step + shift) % len(movie_ids)]
                rows.append(
                    {"user_id": user_id, "token": pair.access_token, "movie_id": movie_id, "offer": offer}
                )
            return rows

        buyer_rows = await customers("buyer", "buy", 0)
        renter_rows = await customers("renter", "rent", max(1, step // 2))
        rented = sorted({r["movie_id"] for r in renter_rows})
        await db_rentable(rented)
        db = engine()
        detail = movie_ids[len(movie_ids) // 2]
        genre = await db.run_ddl("SELECT id FROM genres WHERE name = 'Drama'")
        star = await db.run_ddl(
            "SELECT s.name FROM stars s JOIN movie_stars ms ON ms.star_id = s.id "
            "GROUP BY s.name ORDER BY count(*) DESC, s.name LIMIT 1"
        )
        return {
            "password": PASSWORD,
            "cart": {"email": cart_email, "user_id": cart_user, "items": cart_items},
            "burst": burst_users,
            "buyers": buyer_rows,
            "renters": renter_rows,
            "movies": {
                "count": len(movie_ids),
                "detail_id": detail,
                "detail_ids": movie_ids[:: max(1, len(movie_ids) // 100)][:100],
                "genre_id": int(genre[0]["id"]),
                "star": str(star[0]["name"]),
            },
        }
    finally:
        await close_pool()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Create the benchmark users (see module docstring).")
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--cart-items", type=int, default=5)
    parser.add_argument(
        "--prefix", default="bench", help="Email prefix (unique per run when a database is reused)."
    )
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(_make(args.buyers, args.burst, args.cart_items, args.prefix))))


if __name__ == "__main__":
    main()
