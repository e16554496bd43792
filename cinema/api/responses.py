"""JSON responses of the hot read endpoints, encoded once by pydantic-core.

The read endpoints keep `response_model` (the OpenAPI document shows the
schema) but answer with a ready `Response`: returning data would make FastAPI
validate it against the response model and encode it again. The services hand
these endpoints JSON-ready values (`dict`s of ints, strs, floats, `Decimal`
amounts with two places, UUIDs, UTC datetimes) in the response model's shape;
`tests/catalog/test_read_contract.py` checks every such body against its model.
Issue 7: validating, dumping and re-validating the models was a quarter of a
catalog request's CPU.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json
from starlette.responses import Response


def json_data(data: Any) -> Response:
    """`data` (JSON-ready values, see the module docstring) as a 200 `application/json` response.

    `Decimal` becomes a string as it is (`Decimal("7.70")` -> `"7.70"`), a
    datetime an ISO 8601 string (`...Z` for UTC), a UUID its canonical string.
    """
    return Response(content=to_json(data), media_type="application/json")


def json_model(model: BaseModel) -> Response:
    """`model` as a 200 `application/json` response, serialised once by pydantic-core."""
    return Response(content=model.model_dump_json(), media_type="application/json")
