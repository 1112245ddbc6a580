"""ETags and preconditions: how a version travels in `ETag`, `If-Match` and `If-None-Match`."""

from typing import Annotated

from fastapi import Header

from service.problems import Invalid
from service.records.storage.write_protocol import Pin

_TAG = r'(W/)?"[1-9][0-9]{0,9}"'
#: `*`, or a list of version ETags this service issued (`"3"`, optionally weak): RFC 9110
#: 13.1.1 lets `If-Match` name several, and the write applies if one is current.
ETAG_PATTERN = rf"^\s*(\*|{_TAG}(\s*,\s*{_TAG})*)\s*$"
IfMatch = Annotated[
    str | None,
    Header(
        pattern=ETAG_PATTERN,
        description='Version ETag(s) the write applies to, e.g. `"3"` or `"3", "4"`; when '
        "none is current the answer is 412.",
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def parse_version_tag(header: str | None, name: str) -> Pin:
    """The versions an `If-Match` header pins, `*` for any current record, or None."""
    if header is None:
        return None
    if header.strip() == "*":
        return "*"
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    if not all(tag.isdigit() for tag in tags):
        raise Invalid(
            f'{name} must list ETags this service issued, such as "3".',
            errors=[{"parameter": name, "in": "header", "detail": "not a version ETag"}],
        )
    return frozenset(int(tag) for tag in tags)


def matches_any(header: str | None, version: int) -> bool:
    """True when an `If-None-Match` list names the current version (or is `*`)."""
    if header is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag(version) in tags
