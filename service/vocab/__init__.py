"""The published vocabularies: countries, currencies, sectors, kinds and statuses.

Everything a client may put in a coded field is listed here once; models validate against it
and `GET /v1/vocab` publishes it, so the two can never drift apart.
"""
