"""WhatsApp through Web gateways (Evolution API, WAHA, the built-in sandbox).

The large example of the house plan (docs/HOUSE.md): `router/`, `service/` and `repository/`
split by the same areas (sessions, chats, contacts, messages, labels, operations, receiver),
with `schemas`, `events`, `errors`, `tasks` and the inbox source (`inbox`) beside them, and the
gateway adapters in `gateways/`.
"""
