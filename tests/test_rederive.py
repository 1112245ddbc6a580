"""Records stored by an older derivation are derived again at start-up, in place."""

from pymongo import AsyncMongoClient

from service.db import Document
from service.records.derive import DERIVATION
from tests.conftest import ADMIN
from tests.factories import project, unique_id


async def test_stale_derived_fields_are_derived_again_at_start_up(app_client, database_uri):
    database = "rederive_" + unique_id().replace("-", "_")
    body = project(title="Fiber-optic link", organisations=[{"name": "Xi'an Jiaotong University"}])
    async with app_client(database=database) as c:
        assert (await c.put("/v1/projects/link", json=body, headers=ADMIN)).status_code == 201
        assert (await c.put("/v1/projects/gone", json=body, headers=ADMIN)).status_code == 201
        assert (await c.delete("/v1/projects/gone", headers=ADMIN)).status_code == 204
        before = (await c.get("/v1/projects/link")).json()

    # As an older release stored it: terms of the words as written, and no derivation mark.
    async with AsyncMongoClient[Document](database_uri) as client:
        col = client[database]["projects"]
        await col.update_one(
            {"_id": "link"}, {"$set": {"_terms": ["fiber", "link"]}, "$unset": {"_derivation": ""}}
        )

    async with app_client(database=database) as c:  # start-up derives it again
        found = await c.get("/v1/projects", params={"q": "Jiao Tong fibre"})
        assert [d["id"] for d in found.json()["data"]] == ["link"]
        after = (await c.get("/v1/projects/link")).json()
        assert after == before  # same version, same content: only hidden fields changed
        assert (await c.get("/v1/projects/gone")).status_code == 410

    async with AsyncMongoClient[Document](database_uri) as client:
        col = client[database]["projects"]
        stored = await col.find_one({"_id": "link"})
        assert stored is not None and stored["_derivation"] == DERIVATION
        assert "jiaotong" in stored["_terms"]
        tomb = await col.find_one({"_id": "gone"})
        assert tomb is not None and "_derivation" not in tomb
        revisions = await client[database]["revisions"].count_documents({"record_id": "link"})
        assert revisions == 1
