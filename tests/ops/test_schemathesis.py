"""Property-based API test: schemathesis against the app's own OpenAPI document.

Two tests per operation in the document (taken from `create_app().openapi()`,
the same document `/openapi.json` serves), called over real HTTP (a uvicorn
process on loopback) with an ADMIN's Bearer token, so the guarded operations
run too:

- valid input (schemathesis's positive mode, with the coverage phase's
  boundary values): no 5xx (`not_a_server_error`) and every response matches
  its declared schema (`response_schema_conformance`);
- invalid input (negative mode: `null`, wrong types, out-of-range numbers,
  strings too long or with control characters, missing and unknown fields, in
  bodies, query strings and paths): no 5xx, and every answer matches its
  declared schema. `negative_data_rejection` (a 4xx for anything the schema
  forbids) is not asserted: a query parameter given twice is schema-violating to
  schemathesis but answered by FastAPI with its last value (a 200), which is
  the framework's documented behaviour, not a fault.

`SCHEMATHESIS_MAX_EXAMPLES` sets the generated examples per operation and mode
(default 10), on top of the coverage phase's fixed cases.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from cinema.accounts.actor import GroupName
from cinema.api.app import create_app
from tests.ops.conftest import Server, make_movie, start_server, stop_server

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10"))

DOCUMENT = create_app().openapi()


def _schema(mode: GenerationMode) -> Any:
    loaded = schemathesis.openapi.from_dict(DOCUMENT)
    loaded.config.generation.update(modes=[mode])
    return loaded


#: Valid input (and the coverage phase's boundary values): answered within the declared contract.
positive = _schema(GenerationMode.POSITIVE)
#: Invalid input: nulls, wrong types, out-of-range numbers, too long or patterned-out strings,
#: missing or extra fields, in bodies, query strings and paths. Answered with a 4xx.
negative = _schema(GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # With a webhook secret the Stripe webhook answers bad signatures 400, as in production.
    server = start_server(tmp_path_factory.mktemp("schemathesis"), STRIPE_WEBHOOK_SECRET="whsec_schemathesis")
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


@positive.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_valid_input_within_its_contract(
    case: Any, api_server: Server, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(
        base_url=api_server.url,
        headers=admin_headers,
        checks=[not_a_server_error, response_schema_conformance],
        timeout=30,
    )


@negative.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_invalid_input_never_gets_a_5xx(case: Any, api_server: Server, admin_headers: dict[str, str]) -> None:
    case.call_and_validate(
        base_url=api_server.url,
        headers=admin_headers,
        checks=[not_a_server_error, response_schema_conformance],
        timeout=30,
    )
