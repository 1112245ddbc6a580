"""ISO 3166-1 alpha-3 country codes, from pycountry, plus `EUU` for the European Union."""

from functools import cache
from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field

#: Codes that are not ISO 3166-1 countries but that sources treat as parties.
EXTRA_PARTIES: dict[str, str] = {"EUU": "European Union"}


@cache
def country_names() -> dict[str, str]:
    """Every accepted code with its English name, ISO countries first."""
    names = {c.alpha_3: c.name for c in pycountry.countries}
    names.update(EXTRA_PARTIES)
    return names


def is_country(code: str) -> bool:
    return code in country_names()


def _check_country(code: str) -> str:
    if not is_country(code):
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-3 code (or EUU)")
    return code


CountryCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{3}$",
        description="ISO 3166-1 alpha-3 code; EUU for the European Union.",
        examples=["CHN"],
    ),
    AfterValidator(_check_country),
]
