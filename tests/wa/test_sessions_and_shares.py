"""Sessions and their shares: ids made from names, and shares as offers the target accepts."""

from __future__ import annotations

import httpx

from tests.helpers import register
from tests.wa.helpers import create_session


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
