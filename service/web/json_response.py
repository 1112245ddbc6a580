"""JSON answers without a second validation of their content."""

from typing import Any

import orjson
from starlette.responses import Response


class JSONBytes(Response):
    """A JSON response serialised once by orjson, without re-validating the content."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
