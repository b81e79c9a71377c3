"""How many inputs the fuzz suite tries: SMSGATE_FUZZ_EXAMPLES in all (100,000 by default,
1,000,000 under `make fuzz`), most of them into the in-process codec (cheap), a tenth over
real sockets into the running SMPP server (each costs a round trip)."""

from __future__ import annotations

import os

TOTAL = int(os.environ.get("SMSGATE_FUZZ_EXAMPLES", "100000"))
# The unit fuzz tests read the same variable as a per-test hypothesis example count; below
# their default it means "a quick run", so the suite never drops under a useful size.
TOTAL = max(TOTAL, 10_000)
SOCKET_FRAMES = TOTAL // 10
CODEC_INPUTS = TOTAL - SOCKET_FRAMES
