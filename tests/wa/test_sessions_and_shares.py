"""Sessions and their shares: ids made from names, and shares as offers the target accepts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.helpers import Caller, add_member, assert_error, register
from tests.wa.helpers import create_session, headers, inject, messages, share_and_accept


async def test_a_session_named_in_turkish_keeps_its_letters_in_its_id(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    created = await client.post(
        f"/accounts/{owner.account_id}/wa-sessions",
        json={"name": "Mağaza Şişli Çarşı", "provider": "sandbox"},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    psid = created.json()["data"]["providerSessionId"]
    assert psid.startswith("magaza-sisli-carsi-"), psid
    # A name with nothing to transliterate still gets a readable id.
    assert (await create_session(client, owner))["providerSessionId"].startswith("demo-shop-")


async def _events(account_id: str, prefix: str = "wa.") -> list[tuple[str, dict[str, Any]]]:
    from sqlalchemy import select

    from ticaret.core.db import get_sessionmaker
    from ticaret.models import Event

    async with get_sessionmaker()() as session:
        rows = await session.execute(
            select(Event.type, Event.data)
            .where(Event.account_id == uuid.UUID(account_id), Event.type.startswith(prefix))
            .order_by(Event.seq)
        )
        return [(t, d) for t, d in rows.tuples()]


async def _offer(client: httpx.AsyncClient, owner: Caller, psid: str, target: str) -> Any:
    return await client.post(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}/shares",
        json={"accountId": target},
        headers=owner.headers,
    )


async def test_a_share_is_an_offer_that_gives_nothing_until_the_target_admin_accepts(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    owner = await register(client)
    partner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    own_psid = (await create_session(client, partner))["providerSessionId"]
    offered = await _offer(client, owner, psid, partner.account_id)
    assert offered.status_code == 201, offered.text
    offer = offered.json()["data"]
    assert offer["status"] == "pending"

    # A customer writes while the offer is pending: nothing reaches the partner.
    await inject(client, owner, psid)
    await run_jobs()
    assert_error(
        await client.get("/wa/chats", params={"providerSessionId": psid}, headers=headers(partner)),
        404,
    )
    # The partner's integrations that name no session still find their one session.
    own_chats = await client.get("/wa/chats", headers=headers(partner))
    assert own_chats.status_code == 200, own_chats.text
    listed = await client.get(
        f"/accounts/{partner.account_id}/wa-sessions", headers=partner.headers
    )
    assert [r["providerSessionId"] for r in listed.json()["data"]["rows"]] == [own_psid]
    about_it = [
        (t, d) for t, d in await _events(partner.account_id) if d.get("providerSessionId") == psid
    ]
    assert [t for t, _ in about_it] == ["wa.session.shared"]
    assert about_it[0][1]["shareId"] == offer["id"]

    # The offer waits in the partner's list; an agent cannot answer it, an admin can.
    offers = await client.get(
        f"/accounts/{partner.account_id}/wa-session-shares", headers=partner.headers
    )
    [pending] = offers.json()["data"]["rows"]
    assert pending["providerSessionId"] == psid and pending["ownerAccountId"] == owner.account_id
    agent = await add_member(client, partner, "agent")
    assert_error(
        await client.post(
            f"/accounts/{partner.account_id}/wa-session-shares/{offer['id']}/accept",
            headers=agent.headers,
        ),
        403,
    )
    accepted = await client.post(
        f"/accounts/{partner.account_id}/wa-session-shares/{offer['id']}/accept",
        headers=partner.headers,
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["data"]["status"] == "accepted"
    assert (await messages(client, partner, psid))["rows"][0]["text"]
    owner_view = await client.get(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
    )
    assert owner_view.json()["data"]["sharedWith"] == [partner.account_id]
    assert {t for t, _ in await _events(owner.account_id, "wa.session.share")} == {
        "wa.session.shared",
        "wa.session.share_accepted",
    }

    # From now on the conversation's events reach the partner too.
    await inject(client, owner, psid, text="İkinci mesaj")
    await run_jobs()
    assert "wa.message.received" in [t for t, _ in await _events(partner.account_id)]


async def test_a_declined_offer_gives_no_access_and_can_be_offered_again(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    partner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    offer = (await _offer(client, owner, psid, partner.account_id)).json()["data"]
    declined = await client.post(
        f"/accounts/{partner.account_id}/wa-session-shares/{offer['id']}/decline",
        headers=partner.headers,
    )
    assert declined.json()["data"]["status"] == "declined"
    assert_error(
        await client.get("/wa/chats", params={"providerSessionId": psid}, headers=headers(partner)),
        404,
    )
    owner_view = await client.get(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
    )
    assert owner_view.json()["data"]["sharedWith"] == []
    assert [s["status"] for s in owner_view.json()["data"]["shares"]] == ["declined"]
    assert "wa.session.share_declined" in [t for t, _ in await _events(owner.account_id)]
    again = await _offer(client, owner, psid, partner.account_id)
    assert again.json()["data"]["status"] == "pending"
    # Another account's offer is not found from here.
    stranger = await register(client)
    assert_error(
        await client.post(
            f"/accounts/{stranger.account_id}/wa-session-shares/{offer['id']}/accept",
            headers=stranger.headers,
        ),
        404,
        "share_not_found",
    )


async def test_offering_to_an_unknown_account_answers_like_offering_to_a_real_one(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    partner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    real = await _offer(client, owner, psid, partner.account_id)
    unknown = await _offer(client, owner, psid, str(uuid.uuid4()))
    assert real.status_code == unknown.status_code == 201
    shape = {k: type(v) for k, v in real.json()["data"].items()}
    assert shape == {k: type(v) for k, v in unknown.json()["data"].items()}
    assert real.json()["data"]["status"] == unknown.json()["data"]["status"] == "pending"
    # Offering again answers the same offer, whichever the account.
    assert (await _offer(client, owner, psid, partner.account_id)).json()["data"]["id"] == (
        real.json()["data"]["id"]
    )


async def test_a_share_recipient_never_sees_the_gateway_its_key_or_the_pairing_code(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    partner = await register(client)
    created = await create_session(client, owner)
    psid = created["providerSessionId"]
    await share_and_accept(client, owner, partner, psid)
    base = f"/accounts/{partner.account_id}/wa-sessions/{psid}"
    detail = await client.get(base, headers=partner.headers)
    assert detail.status_code == 200, detail.text
    data = detail.json()["data"]
    assert data["access"] == "shared"
    assert data["baseUrl"] is None and data["hasApiKey"] is False
    assert data["webhookUrl"] is None and data["shares"] == []
    assert_error(await client.get(f"{base}/qr", headers=partner.headers), 403, "not_session_owner")


async def test_session_removal_and_unsharing_are_told_to_every_account_concerned(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    partner = await register(client)
    psid = (await create_session(client, owner))["providerSessionId"]
    await share_and_accept(client, owner, partner, psid)
    unshared = await client.delete(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}/shares/{partner.account_id}",
        headers=owner.headers,
    )
    assert unshared.status_code == 200
    for account in (owner.account_id, partner.account_id):
        assert "wa.session.unshared" in [t for t, _ in await _events(account)]

    await share_and_accept(client, owner, partner, psid)
    removed = await client.delete(
        f"/accounts/{owner.account_id}/wa-sessions/{psid}", headers=owner.headers
    )
    assert removed.json()["data"] == {"removed": True, "scope": "session"}
    for account in (owner.account_id, partner.account_id):
        deleted = [d for t, d in await _events(account) if t == "wa.session.deleted"]
        assert deleted == [
            {"providerSessionId": psid, "name": "Demo shop", "ownerAccountId": owner.account_id}
        ]
