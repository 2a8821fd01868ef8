"""What other domains call (Meta and Instagram link their ids, orders check customers and
contacts, the conversations API finds people by phone), on data made over HTTP."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.crm.helpers import events, team


async def test_an_integration_links_a_page_scoped_id_and_finds_the_customer_by_it(
    client: httpx.AsyncClient,
) -> None:
    from ticaret.core.db import unit_of_work
    from ticaret.crm.service import identities
    from ticaret.models import IdentityChannel

    shop = await team(client)
    account = uuid.UUID(shop.owner.caller.account_id)
    customer = await shop.agent.customer("Acme", phones=["0555 111 22 33"])
    contact = await shop.agent.contact(customer["id"], phone="+90 555 999 88 77")
    async with unit_of_work() as session:
        linked = await identities.link_identity(
            session,
            account,
            IdentityChannel.messenger,
            "PSID-123",
            scope="PAGE-1",
            customer_id=uuid.UUID(customer["id"]),
        )
    async with unit_of_work() as session:
        found = await identities.find_customer_by_identity(
            session, account, IdentityChannel.messenger, "PSID-123", scope="PAGE-1"
        )
        elsewhere = await identities.find_customer_by_identity(
            session, account, IdentityChannel.messenger, "PSID-123", scope="PAGE-2"
        )
        by_phone = await identities.find_customers_by_phone(session, account, "0555 999 88 77")
        by_customer_phone = await identities.find_customers_by_phone(session, account, "5551112233")
    assert found is not None and found.customer_id == uuid.UUID(customer["id"])
    assert found.mapping_id == linked.mapping_id
    assert elsewhere is None
    assert [(m.customer_id, m.contact_id) for m in by_phone] == [
        (uuid.UUID(customer["id"]), uuid.UUID(contact["id"]))
    ]
    assert [m.contact_id for m in by_customer_phone] == [None]
    [event] = await events(shop.owner.caller.account_id, "crm.identity.")
    assert event["data"]["mapping"]["source"] == "integration"
    assert event["actor"] == {"type": "system", "id": None}
    mappings = await shop.viewer.get("/crm/identity-mappings", params={"channel": "messenger"})
    assert [(m["scope"], m["value"]) for m in mappings["rows"]] == [("PAGE-1", "PSID-123")]


async def test_orders_check_the_customer_and_contact_they_name(client: httpx.AsyncClient) -> None:
    from ticaret.core.db import unit_of_work
    from ticaret.crm.errors import ContactOfAnotherCustomer, CustomerNotFound
    from ticaret.crm.service import contacts, customers

    shop = await team(client)
    account = uuid.UUID(shop.owner.caller.account_id)
    customer = await shop.agent.customer("Acme")
    other = await shop.agent.customer("Başka")
    contact = await shop.agent.contact(customer["id"])
    async with unit_of_work() as session:
        brief = await customers.customer_summary(session, account, uuid.UUID(customer["id"]))
        person = await contacts.contact_summary(
            session, account, uuid.UUID(contact["id"]), uuid.UUID(customer["id"])
        )
        assert brief.title == "Acme" and person.customer_id == brief.id
        with pytest.raises(ContactOfAnotherCustomer):
            await contacts.contact_summary(
                session, account, uuid.UUID(contact["id"]), uuid.UUID(other["id"])
            )
        with pytest.raises(CustomerNotFound):
            await customers.customer_summary(session, uuid.uuid4(), uuid.UUID(customer["id"]))
