"""HTTP details shared by the record routes: JSON responses, ETags and preconditions."""

from typing import Any

import orjson
from starlette.responses import Response

from service.problems import Invalid


class JSONBytes(Response):
    """A JSON response serialised once by orjson, without re-validating the content."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_version_tag(header: str | None, name: str) -> int | None:
    """The version an `If-Match` header pins, or None when absent or `*`."""
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise Invalid(
            f'{name} must be an ETag this service issued, such as "3".',
            errors=[{"parameter": name, "in": "header", "detail": "not a version ETag"}],
        )
    return int(tag)


def matches_any(header: str | None, version: int) -> bool:
    """True when an `If-None-Match` list names the current version (or is `*`)."""
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag(version) in tags
