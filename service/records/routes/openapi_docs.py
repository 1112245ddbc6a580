"""What the contract says of record operations beyond their signatures: the errors any of
them can meet, and the links from an answer carrying a record to the operations on it."""

from typing import Any

#: Any record operation can meet a bad key, a bad parameter, a rate limit or an outage.
ALWAYS = (401, 422, 429, 503)
#: Operations with a body can also meet a malformed, oversized or non-JSON one.
BODY = (400, 413, 415)


def links_to_record(singular: str) -> dict[str, dict[str, Any]]:
    """OpenAPI links from an answer carrying a record to the operations on that record, so
    clients (and stateful fuzzers) can chain create, read, update and delete."""
    target = {"record_id": "$response.body#/id"}
    return {
        f"{verb.capitalize()}{singular.capitalize()}": {
            "operationId": f"{verb}_{singular}",
            "parameters": target,
        }
        for verb in ("get", "put", "patch", "delete")
    } | {
        f"List{singular.capitalize()}Revisions": {
            "operationId": f"list_{singular}_revisions",
            "parameters": target,
        }
    }
