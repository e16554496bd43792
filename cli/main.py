"""The `cinema` command: one Typer sub-app per noun (see `cinema --help`)."""

from __future__ import annotations

import typer

from cli import (
    carts,
    catalog,
    db,
    demo,
    groups,
    media,
    movies,
    orders,
    payments,
    refunds,
    server,
    tokens,
    users,
)

app = typer.Typer(
    name="cinema",
    help="Operate the Cinema backend: database, users, catalog, carts, orders, payments.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(groups.app, name="groups")
app.add_typer(tokens.app, name="tokens")
app.add_typer(movies.app, name="movies")
movies.app.add_typer(media.app, name="media")
for name, sub in catalog.apps.items():
    app.add_typer(sub, name=name)
app.add_typer(carts.app, name="carts")
app.add_typer(orders.app, name="orders")
app.add_typer(payments.app, name="payments")
app.add_typer(refunds.app, name="refunds")
server.register(app)
demo.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
