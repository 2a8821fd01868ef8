"""The WhatsApp jobs' edge cases: what counts as a session that is gone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.exc import DBAPIError

from tests.helpers import register
from tests.wa.helpers import create_session
from ticaret.wa.gateways.sandbox import inbound_message_payload
from ticaret.wa.tasks import deliver_gateway_follow_up


async def test_a_follow_up_for_a_removed_session_is_dropped(
    client: httpx.AsyncClient, app: Any
) -> None:
    owner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    payload = inbound_message_payload(psid, from_phone_or_jid="905551112233", text="hi")
    assert await deliver_gateway_follow_up({}, psid, payload) == "stored"
    removed = await client.delete(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
    )
    assert removed.status_code == 200
    assert await deliver_gateway_follow_up({}, psid, payload) == "session gone"


async def test_a_database_error_is_not_a_missing_session(app: Any) -> None:
    # PostgreSQL refuses the NUL in the id: a failure the job must report (arq retries it),
    # not a session to forget about.
    with pytest.raises(DBAPIError):
        await deliver_gateway_follow_up({}, "shop\x00", {"event": "message.ack"})
