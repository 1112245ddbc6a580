"""Timestamps as the service stores them."""

import datetime as dt


def now_iso() -> str:
    """UTC timestamp at microsecond precision; fixed width, so it sorts as text."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
