"""`cinema tokens`: housekeeping of activation, reset and refresh tokens."""

from __future__ import annotations

from cli.common import CinemaTyper, JsonOption, output, print_json, run

app = CinemaTyper(help="Tokens: delete expired ones.", no_args_is_help=True)


@app.command("purge")
def purge(as_json: JsonOption = False) -> None:
    """Delete expired activation, reset and refresh tokens and old failed-login records now.

    The scheduler (`cinema scheduler`) does the same every hour.
    """
    from cinema.accounts import service

    counts = run(service.purge_tokens)
    if as_json:
        print_json(counts)
        return
    rows = [{"kind": kind, "deleted": number} for kind, number in counts.model_dump().items()]
    output(rows, ["kind", "deleted"], as_json=False, title="Expired rows deleted")
