"""Stored documents and what clients see of them: `_id` becomes `id`, `_` fields stay inside."""

from service.db import Document

#: Internal fields that are never served and need not travel in an export.
HIDDEN = {"_terms": 0, "_money": 0}


def public(doc: Document) -> Document:
    """The record as clients see it: `_id` becomes `id`, internal `_` fields are dropped."""
    out: Document = {"id": doc["_id"]}
    out.update((k, v) for k, v in doc.items() if k[0] != "_")
    return out


def content(doc: Document) -> Document:
    """The client-written part of a stored record, ready to validate again."""
    return {k: v for k, v in public(doc).items() if k != "id"}
