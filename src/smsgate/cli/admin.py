"""`smsgate accounts` and `smsgate keys`: the admin use cases (services/admin.py) straight on
the database, without starting the gateway."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable

from smsgate.cli.running import run
from smsgate.cli.serve import with_config
from smsgate.config import load_settings
from smsgate.services.admin import AdminService, NewAccount
from smsgate.services.errors import Conflict, NotFound

Work = Callable[[AdminService, argparse.Namespace], Awaitable[int]]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = sub.add_parser("accounts", help="list or create accounts")
    acc_sub = accounts.add_subparsers(dest="action", required=True)
    acc_list = acc_sub.add_parser("list")
    with_config(acc_list)
    acc_list.set_defaults(handler=_command(list_accounts))
    acc_create = acc_sub.add_parser("create")
    acc_create.add_argument("name")
    acc_create.add_argument("--admin", action="store_true")
    acc_create.add_argument("--country", help="default country for national numbers (ISO)")
    acc_create.add_argument("--max-parts", type=int, default=10)
    with_config(acc_create)
    acc_create.set_defaults(handler=_command(create_account))

    keys = sub.add_parser("keys", help="API keys of an account")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    work: dict[str, Work] = {"create": create_key, "list": list_keys, "revoke": revoke_key}
    for action, handler in work.items():
        p = keys_sub.add_parser(action)
        p.add_argument("account", help="account name or id")
        if action == "create":
            p.add_argument("--name")
        if action == "revoke":
            p.add_argument("key_id")
        with_config(p)
        p.set_defaults(handler=_command(handler))


def _command(work: Work) -> Callable[[argparse.Namespace], int]:
    """A handler that runs `work` on the admin service of the configured database."""

    def handler(args: argparse.Namespace) -> int:
        from smsgate.bootstrap import admin_only

        settings = load_settings(args.config)

        async def main() -> int:
            async with admin_only(settings) as admin:
                return await work(admin, args)

        return run(main())

    return handler


async def list_accounts(admin: AdminService, _args: argparse.Namespace) -> int:
    for a in await admin.accounts():
        print(f"{a.id}  {a.name}  role={a.role}  country={a.default_country or '-'}")
    return 0


async def create_account(admin: AdminService, args: argparse.Namespace) -> int:
    new = NewAccount(
        name=args.name,
        role="admin" if args.admin else "user",
        default_country=args.country or "",
        max_parts=args.max_parts,
    )
    try:
        account = await admin.create_account(new)
    except Conflict:
        print(f"an account named {args.name!r} exists", file=sys.stderr)
        return 1
    created = await admin.create_key(account.id, name="initial")
    print(f"account {account.id} ({account.name}) created")
    print(f"callback secret (signs callback_url calls): {account.signing_secret}")
    # The key stays the last line (scripts take its last word).
    print(f"API key (shown once): {created.secret}")
    return 0


async def _account_id(admin: AdminService, name_or_id: str) -> str | None:
    try:
        return (await admin.find_account(name_or_id)).id
    except NotFound:
        print(f"no account {name_or_id!r}", file=sys.stderr)
        return None


async def create_key(admin: AdminService, args: argparse.Namespace) -> int:
    account_id = await _account_id(admin, args.account)
    if account_id is None:
        return 1
    created = await admin.create_key(account_id, name=args.name or "")
    print(f"key {created.key.id} created; API key (shown once): {created.secret}")
    return 0


async def list_keys(admin: AdminService, args: argparse.Namespace) -> int:
    account_id = await _account_id(admin, args.account)
    if account_id is None:
        return 1
    for k in await admin.keys(account_id):
        state = "revoked" if k.revoked_at else "active"
        print(f"{k.id}  {k.prefix}…  {k.name or '-'}  {state}")
    return 0


async def revoke_key(admin: AdminService, args: argparse.Namespace) -> int:
    account_id = await _account_id(admin, args.account)
    if account_id is None:
        return 1
    try:
        await admin.revoke_key(account_id, args.key_id)
    except NotFound:
        print(f"no active key {args.key_id!r}", file=sys.stderr)
        return 1
    print(f"key {args.key_id} revoked")
    return 0
