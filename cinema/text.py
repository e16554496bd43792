"""Text accepted from clients: one rule for every request text field, the same on every engine.

PostgreSQL refuses NUL in text while SQLite stores it, so the same request
used to be a 201 on one engine and a 422 on the other. Other C0 control
characters (ESC, BEL, backspace, ...) and DEL are stored by both but have no
place in a name, an email or a comment: they rewrite terminals and break the
CSV exports and logs that show them. Lone surrogates cannot be encoded as
UTF-8 by either driver. So every text field of a request model, and every text
query parameter, carries `NoControlCharacters`:

- single-line text (names, emails, tokens, search terms) refuses U+0000..U+001F,
  U+007F and lone surrogates;
- multi-line text (descriptions, comments, profile info, refund reasons) also
  allows tab, line feed and carriage return.

Breaking it is a 422 (`control_characters` in the error's `type`) before any
service runs. The OpenAPI schema states it as a `pattern`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_SINGLE_LINE_BAD = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_MULTI_LINE_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
#: The same rules as JSON Schema patterns (ECMA-262 syntax), for the OpenAPI document.
SINGLE_LINE_PATTERN = r"^[^\u0000-\u001f\u007f]*$"
MULTI_LINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"


def refuse_control_characters(text: str, *, multiline: bool = False) -> str:
    """`text` unchanged, or `PydanticCustomError` (`control_characters`) naming the first bad character."""
    found = (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(text)
    if found is not None:
        allowed = " (tab and line breaks are allowed)" if multiline else ""
        raise PydanticCustomError(
            "control_characters",
            "The text must not contain control characters such as NUL{allowed}; found {code}.",
            {"allowed": allowed, "code": f"U+{ord(found.group()):04X}"},
        )
    return text


@dataclass(frozen=True)
class NoControlCharacters:
    """`Annotated` marker: validate the string (after its other constraints) with `refuse_control_characters`."""

    multiline: bool = False

    def _check(self, text: str) -> str:
        return refuse_control_characters(text, multiline=self.multiline)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", MULTI_LINE_PATTERN if self.multiline else SINGLE_LINE_PATTERN)
        return json_schema


#: Single-line text: no control characters at all.
SingleLine = Annotated[str, NoControlCharacters()]
#: Multi-line text: tab, LF and CR allowed, other control characters refused.
MultiLine = Annotated[str, NoControlCharacters(multiline=True)]
