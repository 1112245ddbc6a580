"""The embedded database keeps its data across restarts, and its two servers listen on
loopback only."""

import tempfile
from pathlib import Path
from typing import Any

import psutil
from pymongo import MongoClient

from embedded import EmbeddedDatabase


def test_a_second_start_on_the_same_directory_keeps_the_data():
    data_dir = Path(tempfile.mkdtemp(prefix="srt-keep-"))
    first = EmbeddedDatabase(data_dir)
    first.start()
    try:
        with MongoClient[dict[str, Any]](first.uri) as client:
            client.keep.records.insert_one({"_id": "kept", "n": 1})
    finally:
        first.stop()
    second = EmbeddedDatabase(data_dir)  # other ports, same cluster
    try:
        second.start()
        with MongoClient[dict[str, Any]](second.uri) as client:
            assert client.keep.records.find_one({"_id": "kept"}) == {"_id": "kept", "n": 1}
    finally:
        second.cleanup()


def test_both_servers_listen_on_loopback_only():
    db = EmbeddedDatabase(Path(tempfile.mkdtemp(prefix="srt-lo-")), throwaway=True)
    db.start()
    try:
        assert db.postgres is not None and db.ferretdb is not None
        listening = [
            c.laddr
            for pid in (db.postgres.pid, db.ferretdb.pid)
            for c in psutil.Process(pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
        assert {addr.port for addr in listening} == {db.port, db.pg_port}
        assert {addr.ip for addr in listening} == {"127.0.0.1"}
    finally:
        db.cleanup()
