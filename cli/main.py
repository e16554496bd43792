"""The `cinema` command: one Typer sub-app per noun (see `cinema --help`).

Importing this module reads no settings and opens nothing, so `--help` works
even when the settings are invalid; commands import the services they call
when they run.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli import (
    carts,
    catalog,
    db,
    demo,
    entitlements,
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
from cli.common import CinemaGroup, CinemaTyper

app = CinemaTyper(
    name="cinema",
    cls=CinemaGroup,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)


@app.callback()
def main(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="CINEMA_DEBUG",
            help="Print the traceback of a failure (also CINEMA_DEBUG=1).",
        ),
    ] = False,
) -> None:
    """Operate the Cinema backend: database, users, catalog, carts, orders, payments.

    Exit codes: 0 done, 1 domain error, 2 usage error, 3 infrastructure problem
    (settings, database, Redis). Add --debug for the traceback of a failure.
    """


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
app.add_typer(entitlements.app, name="entitlements")
server.register(app)
demo.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
