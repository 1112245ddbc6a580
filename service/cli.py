"""`python -m service`: fixtures, keys and contracts from the command line.

python -m service fixtures load [--if-empty]
python -m service keys create --name NAME --role ROLE   (the secret is the last line)
python -m service contracts write|check
"""

import argparse
import asyncio
import sys

from service import contracts, fixtures
from service.auth.keys import KeyStore
from service.auth.principal import Role
from service.db import connect
from service.main import RESOURCES
from service.records.repository import Repository
from service.records.sequence import Sequence
from service.records.tokens import Signer
from service.settings import Settings


async def _load_fixtures(if_empty: bool) -> int:
    settings = Settings()
    client = connect(settings)
    try:
        db = client[settings.database]
        sequence = Sequence(db["sequence"], settings.change_stale_after_s)
        await sequence.create_indexes()
        signer = Signer(settings.cursor_secret)
        repositories = {r.name: Repository(db, r, sequence, signer) for r in RESOURCES}
        for repository in repositories.values():
            await repository.create_indexes()
        if if_empty:
            counts = [await db[name].estimated_document_count() for name in repositories]
            if any(counts):
                print("The database already holds records; fixtures not loaded.")
                return 0
        outcome = await fixtures.load(repositories)
        print(", ".join(f"{n} {status}" for status, n in sorted(outcome.items())))
        return 0
    finally:
        await client.close()


async def _create_key(name: str, role: Role) -> int:
    settings = Settings()
    client = connect(settings)
    try:
        store = KeyStore(client[settings.database])
        await store.create_indexes()
        issued = await store.create(name, role)
        print(f"Created {role} key {name!r}. The secret is shown only once:", file=sys.stderr)
        print(issued.secret)
        return 0
    finally:
        await client.close()


def _contracts(action: str) -> int:
    if action == "write":
        for path in contracts.write():
            print(f"wrote {path.relative_to(contracts.ROOT)}")
        return 0
    stale = [
        str(p.relative_to(contracts.ROOT))
        for p, text in contracts.expected_files().items()
        if not p.exists() or p.read_text() != text
    ]
    if stale:
        print("Out of date (run `python -m service contracts write`):", *stale, sep="\n  ")
        return 1
    print("Contracts are up to date.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service")
    commands = parser.add_subparsers(dest="command", required=True)

    fx = commands.add_parser("fixtures", help="load the seed fixtures")
    fx.add_argument("action", choices=["load"])
    fx.add_argument("--if-empty", action="store_true", help="only into an empty database")

    keys = commands.add_parser("keys", help="manage API keys")
    keys.add_argument("action", choices=["create"])
    keys.add_argument("--name", required=True)
    keys.add_argument("--role", required=True, choices=[r.value for r in Role])

    ct = commands.add_parser("contracts", help="write or check openapi.yaml and schemas/")
    ct.add_argument("action", choices=["write", "check"])

    args = parser.parse_args(argv)
    if args.command == "fixtures":
        return asyncio.run(_load_fixtures(args.if_empty))
    if args.command == "keys":
        return asyncio.run(_create_key(args.name, Role(args.role)))
    return _contracts(args.action)
