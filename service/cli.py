"""`python -m service`: fixtures, keys and contracts from the command line.

python -m service fixtures load [--if-empty]
python -m service keys create --name NAME --role ROLE   (the secret is the last line)
python -m service contracts write|check
"""

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Mapping

from rich.progress import Progress

from service import contracts
from service.auth.principal import Principal, Role
from service.fixtures import fixture_files, read
from service.records.storage.repository import Repository
from service.settings import Settings
from service.wiring import Services

LOADER = Principal("fixtures", Role.ADMIN)


async def load_fixtures(
    repositories: Mapping[str, Repository], show_progress: bool = True
) -> Counter[str]:
    """Create or replace every fixture; answers how many were created, updated, unchanged.

    Idempotent: a record equal to what is stored is "unchanged" and makes no new version, so
    loading twice creates nothing."""
    files = list(fixture_files())
    outcome: Counter[str] = Counter()
    with Progress(disable=not show_progress, transient=False) as progress:
        task = progress.add_task("Loading fixtures", total=len(files))
        for collection, path in files:
            repository = repositories[collection]
            data = read(path)
            written = await repository.put(data["id"], repository.validate(data), LOADER)
            outcome[written.status] += 1
            progress.advance(task)
    return outcome


async def _load_fixtures(if_empty: bool) -> int:
    services = Services.build(Settings())
    try:
        await services.prepare()
        if if_empty:
            counts = [await r.estimated_count() for r in services.repositories.values()]
            if any(counts):
                print("The database already holds records; fixtures not loaded.")
                return 0
        outcome = await load_fixtures(services.repositories)
        print(", ".join(f"{n} {status}" for status, n in sorted(outcome.items())))
        return 0
    finally:
        await services.close()


async def _create_key(name: str, role: Role) -> int:
    services = Services.build(Settings())
    try:
        await services.keys.create_indexes()
        issued = await services.keys.create(name, role)
        print(f"Created {role} key {name!r}. The secret is shown only once:", file=sys.stderr)
        print(issued.secret)
        return 0
    finally:
        await services.close()


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
