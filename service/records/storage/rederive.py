"""Derived fields of stored records brought up to the current derivation, at start-up.

What `derive.py` computes (search terms above all) is stored with each record, so a change to
it would leave every record already in a database with stale fields: a search that finds new
records but not old ones. Each record stores the `DERIVATION` that computed its fields; at
start-up, live records stored by another one are derived again from their content and updated
in place, on the version read (a record written meanwhile is already current). Only derived
fields change: not the version, the revisions or the changes feed, since no client-written
content changed.
"""

from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection

from service.db import Document
from service.records.derive import DERIVATION, derive
from service.records.model import RecordFields
from service.records.storage.documents import content


async def rederive(col: AsyncCollection[Document], model: type[RecordFields]) -> int:
    """Derive again every live record stored by another derivation; how many were updated."""
    stale = col.find(
        {"_deleted": False, "_derivation": {"$ne": DERIVATION}},
        projection={"_terms": 0, "_money": 0},
    )
    updated = 0
    async for doc in stale:
        try:
            fields = model.model_validate(content(doc))
        except ValidationError:
            continue  # stored by an older model; its next write will say what to fix
        fields, derived = derive(fields)
        # Funding items carry derived amounts (`usd` per item) as well.
        update = {"funding": fields.model_dump(mode="json")["funding"], **derived}
        result = await col.update_one(
            {"_id": doc["_id"], "version": doc["version"]}, {"$set": update}
        )
        updated += result.modified_count
    return updated
