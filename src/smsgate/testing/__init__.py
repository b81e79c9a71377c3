"""Test support shipped with the package (as `aiosmtpd.testing` is), shared by `tests/` and
`bench/` so that each exists once:

- `fakes_admin`: in-memory fakes of the services' admin ports.
- `records.a_message`: a stored message with ordinary values, changed where a test says.
- `sink.WebhookSink`: an HTTP server on loopback port 0 that takes webhook POSTs.
- `esme.EsmeProtocol`: an asyncio ESME around the sans-I/O `smsgate.smpp.Connection`.
"""
