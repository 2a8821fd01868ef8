"""In a group chat each message belongs to its sender's customer when the sender is mapped,
else to the group's customer; the message list filters follow that."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx

from tests.crm.helpers import inbox, team

GROUP = "120363041234567890@g.us"
PAYLOAD = Path(__file__).parents[1] / "wa" / "gateways" / "payloads" / "waha_message_group.json"


def group_message(
    session: str, message_id: str, participant_phone: str, text: str
) -> dict[str, Any]:
    """WAHA's (NOWEB) group message, from `participant_phone`."""
    body = copy.deepcopy(json.loads(PAYLOAD.read_text(encoding="utf-8")))
    body["session"] = session
    body["id"] = f"evt_{message_id}"
    payload = body["payload"]
    payload["id"] = f"false_{GROUP}_{message_id}_{participant_phone}@c.us"
    payload["participant"] = f"{participant_phone}@c.us"
    payload["body"] = text
    payload["replyTo"] = None
    payload["_data"]["key"].update(id=message_id, participant=f"{participant_phone}@s.whatsapp.net")
    payload["_data"]["message"] = {"conversation": text}
    return body


async def test_group_messages_belong_to_their_senders_customers(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    shop = await team(client)
    company = await shop.agent.customer("Toptan Alıcılar Derneği")
    ayse = await shop.agent.customer("Ayşe K.", phones=["0555 999 88 77"])
    box = await inbox(shop.owner)
    await box.gateway_posts(
        group_message(box.psid, "3EB0000000000001", "905559998877", "Stok var mı?")
    )
    await box.gateway_posts(group_message(box.psid, "3EB0000000000002", "905551230000", "Fiyat?"))
    await run_jobs()
    await shop.agent.put(
        f"/wa/chats/{GROUP}/customer-link", json={"customerId": company["id"]}, params=box.params
    )
    base = f"/wa/chats/{GROUP}/messages"
    rows = (await shop.viewer.get(base, params=box.params))["rows"]
    by_text = {r["text"]: r["customerLink"]["customer"]["id"] for r in rows}
    assert by_text == {"Stok var mı?": ayse["id"], "Fiyat?": company["id"]}
    ayses = await shop.viewer.get(base, params={**box.params, "customerId": ayse["id"]})
    assert [r["text"] for r in ayses["rows"]] == ["Stok var mı?"]
    company_own = await shop.viewer.get(base, params={**box.params, "customerId": company["id"]})
    assert [r["text"] for r in company_own["rows"]] == ["Fiyat?"]
    matched = await shop.viewer.get(base, params={**box.params, "crmIdentityStatus": "matched"})
    assert len(matched["rows"]) == 2
    # Without the group's link, the unknown sender's message is unmatched.
    await shop.agent.delete(f"/wa/chats/{GROUP}/customer-link", params=box.params)
    unmatched = await shop.viewer.get(base, params={**box.params, "crmIdentityStatus": "unmatched"})
    assert [r["text"] for r in unmatched["rows"]] == ["Fiyat?"]
