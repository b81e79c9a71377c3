"""`smsgate accounts` and `smsgate keys` run the admin use cases (services/admin.py): here
on its in-memory fakes, with the arguments the parser makes."""

from __future__ import annotations

import pytest

from smsgate.cli import admin as commands
from smsgate.cli import build_parser
from smsgate.services.admin import AdminService, NewAccount
from smsgate.testing.fakes_admin import FakeAdminStore, FakeClock, FakeUrlCheck


@pytest.fixture
def store() -> FakeAdminStore:
    return FakeAdminStore()


@pytest.fixture
def admin(store: FakeAdminStore) -> AdminService:
    return AdminService(
        accounts=store,
        smpp_logins=store,
        webhooks=store,
        messages=store,
        clock=FakeClock(),
        urls=FakeUrlCheck(),
    )


async def test_accounts_create_prints_the_key_last(
    admin: AdminService, store: FakeAdminStore, capsys: pytest.CaptureFixture[str]
) -> None:
    args = build_parser().parse_args(["accounts", "create", "shop", "--admin", "--country", "bg"])
    assert await commands.create_account(admin, args) == 0
    (account,) = store.accounts.values()
    assert (account.name, account.role, account.default_country) == ("shop", "admin", "BG")
    (key,) = store.keys.values()
    assert key.name == "initial"
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"account {account.id} (shop) created"
    assert lines[1] == f"callback secret (signs callback_url calls): {account.signing_secret}"
    secret = lines[-1].removeprefix("API key (shown once): ")
    assert (await admin.key_account(secret)) == account


async def test_a_taken_name_exits_1(
    admin: AdminService, store: FakeAdminStore, capsys: pytest.CaptureFixture[str]
) -> None:
    await admin.create_account(NewAccount(name="shop"))
    args = build_parser().parse_args(["accounts", "create", "shop"])
    assert await commands.create_account(admin, args) == 1
    assert capsys.readouterr().err == "an account named 'shop' exists\n"
    assert len(store.accounts) == 1
    assert store.keys == {}


async def test_keys_by_account_name_or_id(
    admin: AdminService, store: FakeAdminStore, capsys: pytest.CaptureFixture[str]
) -> None:
    account = await admin.create_account(NewAccount(name="shop"))
    parse = build_parser().parse_args
    assert await commands.create_key(admin, parse(["keys", "create", "shop", "--name", "ci"])) == 0
    (key,) = store.keys.values()
    assert capsys.readouterr().out.startswith(f"key {key.id} created; API key (shown once): sk_")
    assert await commands.revoke_key(admin, parse(["keys", "revoke", account.id, key.id])) == 0
    assert store.keys[key.id].revoked_at is not None
    assert await commands.list_keys(admin, parse(["keys", "list", "shop"])) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("ci  revoked")


async def test_unknown_account_or_key_exits_1(
    admin: AdminService, capsys: pytest.CaptureFixture[str]
) -> None:
    parse = build_parser().parse_args
    assert await commands.list_keys(admin, parse(["keys", "list", "nope"])) == 1
    assert capsys.readouterr().err == "no account 'nope'\n"
    await admin.create_account(NewAccount(name="shop"))
    assert await commands.revoke_key(admin, parse(["keys", "revoke", "shop", "key_x"])) == 1
    assert capsys.readouterr().err == "no active key 'key_x'\n"


async def test_accounts_list(admin: AdminService, capsys: pytest.CaptureFixture[str]) -> None:
    account = await admin.create_account(NewAccount(name="shop", default_country="hu"))
    assert await commands.list_accounts(admin, build_parser().parse_args(["accounts", "list"])) == 0
    assert capsys.readouterr().out == f"{account.id}  shop  role=user  country=HU\n"
