"""The audit trail: every change of a customer, its contacts and mappings, with the actor and
each changed field before and after."""

from __future__ import annotations

import httpx

from tests.crm.helpers import team


async def test_customer_contact_and_mapping_changes_are_audited(client: httpx.AsyncClient) -> None:
    shop = await team(client)
    customer = await shop.agent.customer("Acme", city="Ankara")
    await shop.owner.patch(
        f"/crm/customers/{customer['id']}", json={"city": "İzmir", "tags": ["vip"]}
    )
    contact = await shop.agent.contact(customer["id"], "Ayşe")
    await shop.agent.patch(f"/crm/contacts/{contact['id']}", json={"title": "Müdür"})
    await shop.agent.post(
        "/crm/identity-mappings", json={"value": "905551112233", "customerId": customer["id"]}
    )
    await shop.agent.delete(f"/crm/contacts/{contact['id']}")
    url = f"/crm/customers/{customer['id']}/audit"
    rows = await shop.viewer.all_rows(url, limit=2)
    assert [(r["entityType"], r["action"]) for r in rows] == [
        ("contact", "deleted"),
        ("mapping", "created"),
        ("contact", "updated"),
        ("contact", "created"),
        ("customer", "updated"),
        ("customer", "created"),
    ]
    updated = rows[4]
    assert updated["actor"] == {"type": "user", "id": shop.owner.caller.user_id}
    assert updated["changes"] == {
        "city": {"before": "Ankara", "after": "İzmir"},
        "tags": {"before": [], "after": ["vip"]},
    }
    assert rows[5]["changes"]["title"] == {"before": None, "after": "Acme"}
    assert rows[2]["changes"] == {"title": {"before": None, "after": "Müdür"}}
    assert rows[1]["changes"]["value"]["after"] == "905551112233@s.whatsapp.net"
    only_contacts = await shop.viewer.all_rows(url, entityType="contact")
    assert len(only_contacts) == 3
    await shop.viewer.error("GET", url, 422, "validation_error", params={"entityType": "order"})
