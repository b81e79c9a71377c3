"""An ESME for tests: the independent `smpplib` client, driven from a thread.

smpplib is blocking; every method here is called through `asyncio.to_thread`. Replies are read
with `read_pdu` until the one asked for arrives; deliver_sm met on the way are answered (by
smpplib) and kept.
"""

from __future__ import annotations

from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from smsgate.smpp import Pdu, decode, encode

WAIT_S = 15


class Esme:
    def __init__(self, port: int, system_id: str, password: str, bind: str = "transceiver"):
        self.client = smpplib.client.Client(
            "127.0.0.1", port, timeout=WAIT_S, allow_unknown_opt_params=True
        )
        self.system_id = system_id
        self.password = password
        self.bind_kind = bind
        self.delivered: list[Any] = []
        self.client.set_message_received_handler(lambda pdu: self.delivered.append(pdu))

    def open(self) -> None:
        self.client.connect()
        getattr(self.client, f"bind_{self.bind_kind}")(
            system_id=self.system_id, password=self.password
        )

    def bind_status(self) -> int:
        """Try to bind; the bind_*_resp command_status."""
        self.client.connect()
        try:
            getattr(self.client, f"bind_{self.bind_kind}")(
                system_id=self.system_id, password=self.password
            )
        except smpplib.exceptions.PDUError as exc:
            return int(exc.args[1])
        return 0

    def close(self) -> None:
        try:
            if self.client.state in (
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX,
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_RX,
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX,
            ):
                self.client.unbind()
        finally:
            self.client.disconnect()

    def request(self, command: str, **fields: Any) -> Any:
        """Send one request and return its response PDU (errors included, not raised)."""
        pdu = smpplib.smpp.make_pdu(command, client=self.client, **fields)
        self.client.send_pdu(pdu)
        while True:
            got = self.client.read_pdu()
            if got.command == "deliver_sm":
                self.client._message_received(got)
                continue
            if got.command == "enquire_link":
                self.client._enquire_link_received(got)
                continue
            if got.sequence == pdu.sequence:
                return got

    def request_raw(self, pdu: Pdu) -> Pdu:
        """For PDUs smpplib lacks (cancel_sm, replace_sm): our codec on smpplib's socket."""
        self.client._socket.sendall(encode(pdu))
        while True:
            header = self.client._recv_exact(16)
            length = int.from_bytes(header[:4], "big")
            frame = header + self.client._recv_exact(length - 16)
            got = decode(frame)
            if got.sequence_number == pdu.sequence_number:
                return got

    def next_sequence(self) -> int:
        return int(self.client.next_sequence())

    def submit(self, **fields: Any) -> Any:
        base = {
            "source_addr_ton": 5,
            "source_addr_npi": 0,
            "source_addr": "ACME",
            "dest_addr_ton": 1,
            "dest_addr_npi": 1,
        }
        return self.request("submit_sm", **{**base, **fields})

    def wait_delivered(self, count: int) -> list[Any]:
        while len(self.delivered) < count:
            got = self.client.read_pdu()
            if got.command == "deliver_sm":
                self.client._message_received(got)
            elif got.command == "enquire_link":
                self.client._enquire_link_received(got)
        return self.delivered
