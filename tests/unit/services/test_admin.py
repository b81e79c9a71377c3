"""The admin use cases (services/admin.py) on the in-memory fakes of their ports."""

from __future__ import annotations

import pytest

from smsgate.domain.errors import InvalidRequest, UrlNotAllowed
from smsgate.services.admin import (
    AdminService,
    ConnectorState,
    NewAccount,
    NewWebhook,
    SmppLogin,
)
from smsgate.services.credentials import check_password
from smsgate.services.errors import Conflict, NotFound
from smsgate.services.records import Delivery, Message
from smsgate.testing.fakes_admin import FakeAdminStore, FakeClock, FakeUrlCheck
from smsgate.testing.records import a_message


def _service(
    store: FakeAdminStore,
    *,
    urls: FakeUrlCheck | None = None,
    rotated: list[str] | None = None,
    connectors: tuple[ConnectorState, ...] = (),
) -> AdminService:
    return AdminService(
        accounts=store,
        smpp_logins=store,
        webhooks=store,
        messages=store,
        clock=FakeClock(),
        urls=urls or FakeUrlCheck(),
        connector_status=lambda: connectors,
        secret_rotated=(rotated if rotated is not None else []).append,
    )


@pytest.fixture
def store() -> FakeAdminStore:
    return FakeAdminStore()


@pytest.fixture
def admin(store: FakeAdminStore) -> AdminService:
    return _service(store)


async def test_account_is_created_with_a_callback_secret_and_an_upper_case_country(
    admin: AdminService,
) -> None:
    account = await admin.create_account(NewAccount(name="shop", default_country="bg"))
    assert account.default_country == "BG"
    assert account.role == "user"
    assert account.signing_secret.startswith("whsec_")
    assert await admin.accounts() == [account]
    assert await admin.account(account.id) == account
    assert await admin.account_named("shop") == account


async def test_admin_account(admin: AdminService) -> None:
    account = await admin.create_account(NewAccount(name="ops", role="admin"))
    assert account.is_admin


async def test_a_taken_name_is_a_conflict(admin: AdminService, store: FakeAdminStore) -> None:
    await admin.create_account(NewAccount(name="shop"))
    with pytest.raises(Conflict) as refused:
        await admin.create_account(NewAccount(name="shop"))
    assert refused.value.field == "name"
    assert len(store.accounts) == 1


async def test_unknown_account_is_not_found(admin: AdminService) -> None:
    with pytest.raises(NotFound) as missing:
        await admin.account("acc_nope")
    assert missing.value.field == "account_id"
    with pytest.raises(NotFound):
        await admin.find_account("nope")
    with pytest.raises(NotFound):
        await admin.rotate_callback_secret("acc_nope")


async def test_find_account_by_name_then_id(admin: AdminService) -> None:
    account = await admin.create_account(NewAccount(name="shop"))
    assert await admin.find_account("shop") == account
    assert await admin.find_account(account.id) == account


async def test_rotating_the_callback_secret_tells_the_sender(store: FakeAdminStore) -> None:
    rotated: list[str] = []
    admin = _service(store, rotated=rotated)
    account = await admin.create_account(NewAccount(name="shop"))
    secret = await admin.rotate_callback_secret(account.id)
    assert secret != account.signing_secret
    assert (await admin.account(account.id)).signing_secret == secret
    assert rotated == [account.id]


async def test_keys_are_created_listed_authenticated_and_revoked(admin: AdminService) -> None:
    account = await admin.create_account(NewAccount(name="shop"))
    created = await admin.create_key(account.id, name="ci")
    assert created.secret.startswith(created.key.prefix)
    assert await admin.key_account(created.secret) == account
    assert [k.id for k in await admin.keys(account.id)] == [created.key.id]
    await admin.revoke_key(account.id, created.key.id)
    assert await admin.key_account(created.secret) is None
    assert (await admin.keys(account.id))[0].revoked_at is not None
    with pytest.raises(NotFound) as again:  # revoked already
        await admin.revoke_key(account.id, created.key.id)
    assert again.value.field == "id"


async def test_a_key_for_no_account_is_refused(admin: AdminService, store: FakeAdminStore) -> None:
    with pytest.raises(NotFound):
        await admin.create_key("acc_nope")
    assert store.keys == {}


async def test_another_accounts_key_cannot_be_revoked(admin: AdminService) -> None:
    a = await admin.create_account(NewAccount(name="a"))
    b = await admin.create_account(NewAccount(name="b"))
    key = (await admin.create_key(a.id)).key
    with pytest.raises(NotFound):
        await admin.revoke_key(b.id, key.id)
    assert (await admin.keys(a.id))[0].revoked_at is None


async def test_smpp_login_is_stored_with_a_password_hash(admin: AdminService) -> None:
    account = await admin.create_account(NewAccount(name="shop"))
    login = SmppLogin(
        system_id="shop1",
        password="pw123",
        max_binds=3,
        allowed_ips=("10.0.0.0/8", "192.0.2.7"),
        submit_rate_per_s=5.0,
    )
    creds = await admin.set_smpp_login(account.id, login)
    assert creds.account_id == account.id
    assert creds.allowed_ips == "10.0.0.0/8,192.0.2.7"
    assert creds.max_binds == 3
    assert creds.submit_rate_per_s == 5.0
    assert "pw123" not in creds.password_hash
    assert check_password("pw123", creds.password_hash)
    assert await admin.smpp_logins(account.id) == [creds]
    assert await admin.smpp_login("shop1") == creds


async def test_smpp_login_replaced_by_its_account(admin: AdminService) -> None:
    account = await admin.create_account(NewAccount(name="shop"))
    await admin.set_smpp_login(account.id, SmppLogin(system_id="shop1", password="old"))
    new = await admin.set_smpp_login(account.id, SmppLogin(system_id="shop1", password="new"))
    assert await admin.smpp_logins(account.id) == [new]
    assert check_password("new", new.password_hash)


async def test_a_system_id_of_another_account_is_a_conflict(admin: AdminService) -> None:
    a = await admin.create_account(NewAccount(name="a"))
    b = await admin.create_account(NewAccount(name="b"))
    first = await admin.set_smpp_login(a.id, SmppLogin(system_id="same", password="pw"))
    with pytest.raises(Conflict) as refused:
        await admin.set_smpp_login(b.id, SmppLogin(system_id="same", password="pw"))
    assert refused.value.field == "system_id"
    assert await admin.smpp_login("same") == first


async def test_a_bad_network_is_refused(admin: AdminService, store: FakeAdminStore) -> None:
    account = await admin.create_account(NewAccount(name="shop"))
    login = SmppLogin(system_id="x", password="pw", allowed_ips=("10.0.0.0/8", "not-an-ip"))
    with pytest.raises(InvalidRequest) as refused:
        await admin.set_smpp_login(account.id, login)
    assert refused.value.field == "allowed_ips"
    assert store.logins == {}


async def test_smpp_logins_of_no_account(admin: AdminService) -> None:
    with pytest.raises(NotFound):
        await admin.set_smpp_login("acc_nope", SmppLogin(system_id="x", password="pw"))
    with pytest.raises(NotFound):
        await admin.smpp_logins("acc_nope")


async def test_deleting_smpp_logins(admin: AdminService) -> None:
    a = await admin.create_account(NewAccount(name="a"))
    b = await admin.create_account(NewAccount(name="b"))
    await admin.set_smpp_login(a.id, SmppLogin(system_id="a1", password="pw"))
    with pytest.raises(NotFound) as missing:  # not b's
        await admin.delete_smpp_login(b.id, "a1")
    assert missing.value.field == "system_id"
    await admin.delete_smpp_login(a.id, "a1")
    assert await admin.smpp_logins(a.id) == []


async def test_webhooks_checked_deduplicated_listed_and_deleted(store: FakeAdminStore) -> None:
    urls = FakeUrlCheck()
    admin = _service(store, urls=urls)
    account = await admin.create_account(NewAccount(name="shop"))
    hook = await admin.create_webhook(
        account.id,
        NewWebhook(url="https://hooks.example/x", events=["message.delivered"] * 2),
    )
    assert urls.checked == ["https://hooks.example/x"]
    assert hook.events == ("message.delivered",)
    assert hook.secret.startswith("whsec_")
    assert await admin.webhooks(account.id) == [hook]
    assert await admin.webhook(account.id, hook.id) == hook
    await admin.delete_webhook(account.id, hook.id)
    with pytest.raises(NotFound):
        await admin.webhook(account.id, hook.id)
    with pytest.raises(NotFound):
        await admin.delete_webhook(account.id, hook.id)


async def test_a_refused_url_stores_no_webhook(store: FakeAdminStore) -> None:
    admin = _service(store, urls=FakeUrlCheck(refused=("http://10.",)))
    account = await admin.create_account(NewAccount(name="shop"))
    with pytest.raises(UrlNotAllowed):
        await admin.create_webhook(account.id, NewWebhook(url="http://10.0.0.1/", events=["x"]))
    assert store.webhooks == {}


async def test_another_accounts_webhook_is_not_found(admin: AdminService) -> None:
    a = await admin.create_account(NewAccount(name="a"))
    b = await admin.create_account(NewAccount(name="b"))
    hook = await admin.create_webhook(a.id, NewWebhook(url="https://h.example/", events=["x"]))
    with pytest.raises(NotFound):
        await admin.webhook(b.id, hook.id)
    with pytest.raises(NotFound):
        await admin.webhook_deliveries(b.id, hook.id)
    with pytest.raises(NotFound):
        await admin.delete_webhook(b.id, hook.id)
    assert await admin.webhooks(a.id) == [hook]


def _delivery(n: int, account_id: str, *, webhook_id: str | None, message_id: str) -> Delivery:
    return Delivery(
        id=f"dlv_{n}",
        event_id=f"evt_{n}",
        event="message.delivered",
        account_id=account_id,
        webhook_id=webhook_id,
        message_id=message_id,
        url="https://h.example/",
        payload="{}",
        status="delivered",
        attempts=1,
        next_attempt_at=None,
        last_status_code=200,
        last_error=None,
        created_at=1000.0 + n,
        delivered_at=1000.5 + n,
    )


def _message(message_id: str, account_id: str) -> Message:
    return a_message(id=message_id, account_id=account_id, to_addr="359888123456")


async def test_deliveries_of_a_webhook_and_of_a_message(
    admin: AdminService, store: FakeAdminStore
) -> None:
    account = await admin.create_account(NewAccount(name="shop"))
    other = await admin.create_account(NewAccount(name="other"))
    hook = await admin.create_webhook(
        account.id, NewWebhook(url="https://h.example/", events=["x"])
    )
    store.messages["msg_1"] = _message("msg_1", account.id)
    older = _delivery(1, account.id, webhook_id=hook.id, message_id="msg_1")
    newer = _delivery(2, account.id, webhook_id=None, message_id="msg_1")  # its callback_url
    store.deliveries += [older, newer]
    store.attempts["dlv_1"] = [
        {"attempted_at": 1001.0, "status_code": 500, "error": None, "duration_ms": 3.5},
        {"attempted_at": 1002.0, "status_code": 200, "error": None, "duration_ms": 2.0},
    ]
    assert await admin.webhook_deliveries(account.id, hook.id) == [older]
    history = await admin.message_deliveries(account.id, "msg_1")
    assert [h.delivery for h in history] == [newer, older]
    assert history[0].attempts == ()
    assert [(a.attempted_at, a.status_code) for a in history[1].attempts] == [
        (1001.0, 500),
        (1002.0, 200),
    ]
    with pytest.raises(NotFound) as missing:  # not other's message
        await admin.message_deliveries(other.id, "msg_1")
    assert missing.value.field == "id"


async def test_connectors_as_the_gateway_reports_them(store: FakeAdminStore) -> None:
    states = (ConnectorState(name="smsc1", type="smpp", up=True, stats={"submitted": 3}),)
    assert _service(store, connectors=states).connectors() == list(states)
    assert _service(store).connectors() == []
