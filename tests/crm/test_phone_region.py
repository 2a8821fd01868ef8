"""The account's default phone region: numbers without a country code are read in it."""

from __future__ import annotations

import httpx

from tests.crm.helpers import Api, register, team


async def test_numbers_are_read_in_turkey_until_the_account_says_otherwise(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    url = f"/accounts/{shop.owner.caller.account_id}/settings"
    settings = await shop.viewer.get(url)
    assert settings["defaultPhoneRegion"] is None
    assert settings["phoneRegion"] == "TR"
    assert (await shop.agent.customer("TR", phones=["0555 111 22 33"]))["phones"] == [
        "+905551112233"
    ]

    changed = await shop.owner.patch(
        url, json={"defaultPhoneRegion": "de", "entityVersion": settings["entityVersion"]}
    )
    assert changed["defaultPhoneRegion"] == "DE"
    assert changed["phoneRegion"] == "DE"
    german = await shop.agent.customer("DE", phones=["01511 2345678", "+90 555 111 22 33"])
    assert german["phones"] == ["+4915112345678", "+905551112233"]

    back = await shop.owner.patch(url, json={"defaultPhoneRegion": None})
    assert back["phoneRegion"] == "TR"


async def test_only_admins_change_the_region_of_their_own_account(
    client: httpx.AsyncClient,
) -> None:
    shop = await team(client)
    url = f"/accounts/{shop.owner.caller.account_id}/settings"
    await shop.agent.error("PATCH", url, 403, json={"defaultPhoneRegion": "DE"})
    other = Api(client, await register(client, name="Other"))
    await other.error("GET", url, 404)
    await other.error("PATCH", url, 404, json={"defaultPhoneRegion": "DE"})
    await shop.owner.error(
        "PATCH", url, 422, "invalid_phone_region", json={"defaultPhoneRegion": "XX"}
    )
    await shop.owner.error(
        "PATCH", url, 422, "validation_error", json={"defaultPhoneRegion": "TUR"}
    )
    await shop.owner.patch(url, json={"defaultPhoneRegion": "GB"})
    await shop.owner.error(
        "PATCH",
        url,
        409,
        "version_conflict",
        json={"defaultPhoneRegion": "DE", "entityVersion": "1"},
    )
