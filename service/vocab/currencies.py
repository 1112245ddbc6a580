"""ISO 4217 currencies and conversion to US dollars at the ECB's historical reference rates.

`currencyconverter` ships the European Central Bank's daily reference rates since 1999. Where
a year is known we convert at the mid-year rate of that year (the rate nearest to 1 July), the
convention AidData uses for annual figures; otherwise at the latest rate the package knows.
"""

import datetime as dt
from functools import cache
from typing import Annotated

import pycountry
from currency_converter import CurrencyConverter
from pydantic import AfterValidator, Field


@cache
def currency_names() -> dict[str, str]:
    return {c.alpha_3: c.name for c in pycountry.currencies}


def _check_currency(code: str) -> str:
    if code not in currency_names():
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CurrencyCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code.", examples=["USD"]),
    AfterValidator(_check_currency),
]


@cache
def _converter() -> CurrencyConverter:
    # fallback_on_missing_rate fills weekends and holidays from the nearest published rate;
    # fallback_on_wrong_date clamps dates outside the data set to its first or last day.
    return CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=True)


def to_usd(amount: int, currency: str, year: int | None) -> int | None:
    """Whole US dollars for `amount` of `currency`, or None when the ECB has no rate for it."""
    if currency == "USD":
        return amount
    converter = _converter()
    if currency not in converter.currencies:
        return None
    date = dt.date(year, 7, 1) if year else None
    return round(float(converter.convert(amount, currency, "USD", date=date)))
