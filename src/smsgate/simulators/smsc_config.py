"""Configuration and records of the SMSC simulator (what it was told, what it saw)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from smsgate.smpp.tlv import Tlv

__all__ = ["ReceiptRecord", "SimulatorError", "SmscSimulatorConfig", "SubmitRecord"]


class SimulatorError(Exception):
    """The simulator cannot do what was asked (e.g. inject a message with nobody bound)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SmscSimulatorConfig:
    """Behaviour of the simulated SMSC (all durations in seconds)."""

    host: str = "127.0.0.1"
    port: int = 0
    system_id: str | None = None  # None: any system_id binds
    password: str | None = field(default=None, repr=False)  # None: any password
    receipt_delay: float = 1.0
    failure_ratio: float = 0.0  # share of submits answered ESME_RSYSERR
    throttle_tps: float | None = None  # above it: ESME_RTHROTTLED
    disconnect_every: float | None = None  # drop every connection this often
    seed: int | None = None
    id_format: Literal["hex", "dec"] = "hex"
    receipt_id_format: Literal["hex", "HEX", "dec"] | None = None  # None: as id_format
    max_frame_size: int = 65536
    answer_enquire_link: bool = True  # False: play a dead SMSC that still holds the socket
    submit_resp_delay: float = 0.0  # hold every submit_sm_resp this long
    window: int = 10  # deliver_sm sent and not yet answered, per session
    deliver_timeout: float = 10.0
    retry_delay: float = 0.5  # before redelivering after an error deliver_sm_resp
    max_delivery_attempts: int = 10
    state_file: str | None = None  # keep owed receipts here across restarts (smsc_journal)
    state_sync_interval: float = 0.2  # fsync the state file this often while it changes


@dataclass(frozen=True, slots=True)
class SubmitRecord:
    """One accepted submit_sm / data_sm, in arrival order."""

    system_id: str
    source: str
    destination: str
    short_message: bytes
    esm_class: int
    data_coding: int
    message_id: str
    tlvs: tuple[Tlv, ...]
    registered_delivery: int
    validity_period: str


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    """One delivery receipt written to an ESME (every attempt) and how it was answered."""

    system_id: str
    message_id: str  # as written in the receipt (receipt_id_format)
    stat: str
    status: int | None  # the deliver_sm_resp command_status; None: no answer
