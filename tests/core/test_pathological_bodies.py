"""No route answers 500 for any body (issue 8, item 3): every POST, PUT and PATCH route of the
OpenAPI document gets bodies that are deep, odd or out of range, from a caller who may use it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.helpers import register
from tests.wa.helpers import CUSTOMER_JID, create_session, headers, inject

DEEP = b"[" * 100_000 + b"]" * 100_000
# Bodies a client should never send, each as raw bytes.
PATHOLOGICAL: dict[str, bytes] = {
    "too deep to parse": DEEP,
    "deep but parseable": b'{"name": ' + b"[" * 900 + b"]" * 900 + b"}",
    "deep objects": b'{"a":' * 900 + b"1" + b"}" * 900,
    "lone surrogates": (
        b'{"name": "\\ud800", "text": "\\udfff", "email": "a\\ud800@x.com", '
        b'"url": "https://x.example/\\ud800", "action": "send_text", "color": "#000000", '
        b'"password": "\\ud800\\ud800\\ud800\\ud800", "accountId": "\\ud800", '
        b'"description": "\\udbff", "events": ["\\ud800"], "labelIds": ["\\ud800"]}'
    ),
    "huge numbers": (
        b'{"name": 1e999, "limit": 123456789012345678901234567890, "role": -1e308, '
        b'"text": 99999999999999999999999999999999999999, "action": "send_text", '
        b'"maxAttempts": 1e400, "entityVersion": 1e309}'
    ),
    "not utf-8": b'{"name": "\xff\xfe\xfd"}',
    "wrong types everywhere": (
        b'{"name": {}, "text": [], "email": 1, "url": null, "action": {"x": 1}, '
        b'"labelIds": {"a": 1}, "accountId": [], "events": "x", "role": []}'
    ),
    "empty": b"",
    "null": b"null",
    "array": b"[1, 2, 3]",
}


async def test_no_route_answers_500_to_a_pathological_body(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    created = await create_session(client, owner)
    psid = created["providerSessionId"]
    # Sent everywhere, so the gateway receiver gets past its check and stores each body.
    secret = {"X-Ticaret-Webhook-Secret": created["webhookSecret"]}
    injected = await inject(client, owner, psid)
    await run_jobs()
    label = await client.post(
        "/wa/labels", json={"name": "VIP", "color": "#112233"}, headers=headers(owner)
    )
    values = {
        "accountId": owner.account_id,
        "providerSessionId": psid,
        "remoteJid": CUSTOMER_JID,
        "messageId": injected["messageId"],
        "labelId": label.json()["data"]["id"],
        "userId": owner.user_id,
    }
    spec = (await client.get("/openapi.json")).json()
    failures: list[str] = []
    calls = 0
    for template, operations in spec["paths"].items():
        for method in ("post", "put", "patch"):
            if method not in operations:
                continue
            path = re.sub(
                r"\{(\w+)\}", lambda m: values.get(m.group(1), str(uuid.uuid4())), template
            )
            for name, body in PATHOLOGICAL.items():
                response = await client.request(
                    method.upper(),
                    path,
                    content=body,
                    params={"providerSessionId": psid},
                    headers={**headers(owner), **secret, "content-type": "application/json"},
                )
                calls += 1
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {template} [{name}] -> {response.text}")
    assert calls > 100
    assert failures == []
    # The receiver kept every unusable body as a failed inbox row, none lost.
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import InboxItem

    async with get_sessionmaker()() as session:
        kept = (
            await session.scalars(select(InboxItem.raw_body).where(InboxItem.status == "failed"))
        ).all()
    assert DEEP.decode() in kept
