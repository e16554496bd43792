"""Property-based API test: schemathesis against the app's own OpenAPI document.

One test per operation in the document (taken from `create_app().openapi()`,
the same document `/openapi.json` serves), each called with generated valid
and invalid input over real HTTP (a uvicorn process on loopback) with an
ADMIN's Bearer token, so the guarded operations run too. Checks: no 5xx
(`not_a_server_error`) and every response matches its declared schema
(`response_schema_conformance`). `SCHEMATHESIS_MAX_EXAMPLES`
sets the examples per operation (default 10).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from cinema.accounts.tables import GroupName
from cinema.api.app import create_app
from tests.ops.conftest import Server, make_movie, start_server, stop_server

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))

schema = schemathesis.openapi.from_dict(create_app().openapi())

INT32_MAX = 2**31 - 1


def _huge(value: Any) -> bool:
    try:
        return abs(int(value)) > INT32_MAX
    except (TypeError, ValueError):
        return False


def _huge_path_id(case: Any) -> bool:
    return any(_huge(value) for value in (case.path_parameters or {}).values())


class KnownFailure(UserWarning):
    """A 5xx on an input that matches a bug already reported to the part's owner."""


#: Bugs found in other parts that are still being built, each reported to its owner. For an
#: input matching one of these, a 5xx is tolerated (and shown as a KnownFailure warning); the
#: response must still match its declared schema, and any other input gets every check.
#: Remove an entry once its owner has fixed it.
KNOWN_FAILURES: list[tuple[str, Callable[[Any], bool]]] = [
    (
        "cinema/api/deps.py page_params: `page` has no upper bound, so OFFSET overflows "
        "(SQLite 'datatype mismatch', PostgreSQL bigint out of range) -> 500",
        lambda case: _huge((case.query or {}).get("page")),
    ),
    (
        "payments/refunds: ids beyond INTEGER in the path (or the admin list's `user_id` filter) "
        "reach the database -> 500; bound them like cart/orders do",
        lambda case: (
            (
                case.operation.path.startswith("/payments/")
                or case.operation.path == "/orders/{order_id}/refund"
            )
            and (_huge_path_id(case) or _huge((case.query or {}).get("user_id")))
        ),
    ),
    (
        "payments: POST /webhooks/stripe answers 503 webhook_not_configured when STRIPE_WEBHOOK_SECRET "
        "is unset (sandbox mode): a 5xx for a permanent configuration state",
        lambda case: case.operation.label == "POST /webhooks/stripe",
    ),
]


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("schemathesis"))
    yield server
    stop_server(server)


@pytest.fixture
async def admin_headers(make_user) -> dict[str, str]:
    # Other accounts first, so the caller's own id is not one of the small ids
    # the generator favours (it may deactivate or demote the id it picks).
    for _ in range(30):
        await make_user()
    await make_movie("Heat", "9.99")
    await make_movie("Ronin", "4.50", year=1998)
    admin = await make_user(group=GroupName.ADMIN)
    return admin.headers


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_within_its_contract(
    case: Any, api_server: Server, admin_headers: dict[str, str]
) -> None:
    known = [reason for reason, matches in KNOWN_FAILURES if matches(case)]
    checks = [response_schema_conformance] if known else [not_a_server_error, response_schema_conformance]
    response = case.call_and_validate(
        base_url=api_server.url, headers=admin_headers, checks=checks, timeout=30
    )
    if known and response.status_code >= 500:
        warnings.warn(KnownFailure(known[0]), stacklevel=1)
