"""Eve 2.3 serving the same `projects` collection, schema-less, read-only.

Runs in its own virtualenv (bench/.venv-eve: Eve pins its own Flask and PyMongo) under
gunicorn with as many worker processes as the service's uvicorn. Settings chosen to be fair
to Eve: list pages count their total (Eve's default, like ours), items are looked up by the
slug `_id`, and the default sort and projection are ours. No
`_deleted` filter: the bench datasets hold no tombstones, and with a filter Eve's item lookups
become `{_id, _deleted}` queries that FerretDB cannot push down to SQLite (a full scan each).
"""

import os

from eve import Eve

SETTINGS = {
    "MONGO_URI": os.environ.get("MONGO_URI", "mongodb://127.0.0.1:27017/silkroad"),
    "RESOURCE_METHODS": ["GET"],
    "ITEM_METHODS": ["GET"],
    "PAGINATION_DEFAULT": 25,
    "PAGINATION_LIMIT": 200,
    "DOMAIN": {
        "projects": {
            "schema": {},
            "allow_unknown": True,
            "item_lookup_field": "_id",
            "item_url": 'regex("[a-z0-9][a-z0-9-]{2,99}")',
            "datasource": {
                "source": "projects",
                "default_sort": [("_seq", -1)],
                "projection": {"_terms": 0},
            },
        }
    },
}

app = Eve(settings=SETTINGS)
