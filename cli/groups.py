"""`cinema groups`: the roles (USER < MODERATOR < ADMIN) and how many users each has."""

from __future__ import annotations

from cli.common import CinemaTyper, JsonOption, output, run

app = CinemaTyper(help="Groups (roles): USER < MODERATOR < ADMIN.", no_args_is_help=True)


@app.command("list")
def list_groups(as_json: JsonOption = False) -> None:
    """Every group, lowest role first, with its number of users."""
    from cinema.accounts import service

    groups = run(service.list_groups)
    output(groups, ["id", "name", "users"], as_json=as_json, title="Groups")
