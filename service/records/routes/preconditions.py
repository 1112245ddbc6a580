"""ETags and preconditions: how a version travels in `ETag`, `If-Match` and `If-None-Match`."""

from typing import Annotated

from fastapi import Header

from service.problems import Invalid
from service.records.storage.write_protocol import Pin

#: A version ETag this service issued (`"3"`, optionally weak), or `*`.
ETAG_PATTERN = r'^\s*(\*|(W/)?"[1-9][0-9]{0,9}")\s*$'
IfMatch = Annotated[
    str | None,
    Header(
        pattern=ETAG_PATTERN,
        description='Version ETag the write applies to, e.g. `"3"`; stale answers 412.',
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def parse_version_tag(header: str | None, name: str) -> Pin:
    """The version an `If-Match` header pins, `*` for any current record, or None."""
    if header is None:
        return None
    if header.strip() == "*":
        return "*"
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
