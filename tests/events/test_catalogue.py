"""The event type catalogue: served at /events/types, in the OpenAPI document, enforced on webhooks."""

from __future__ import annotations

import httpx

from tests.helpers import add_member, assert_error, register

DECLARED = {
    "account.created",
    "account.user.added",
    "account.user.role_changed",
    "account.user.removed",
    "api_account.created",
    "api_account.secret_rotated",
    "api_account.revoked",
    "webhook.created",
    "webhook.updated",
    "webhook.deleted",
    "webhook.paused",
    "webhook.activated",
    "webhook.disabled",
    "webhook.test",
    "wa.session.status_changed",
    "wa.message.received",
    "wa.message.sent",
    "wa.message.updated",
    "wa.message.deleted",
    "wa.chat.updated",
    "wa.label.changed",
}


async def test_any_authenticated_caller_reads_the_catalogue(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    viewer = await add_member(client, owner, "viewer")
    response = await client.get("/events/types", headers=viewer.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] is True
    rows = {row["type"]: row for row in body["data"]}
    assert set(rows) >= DECLARED
    received = rows["wa.message.received"]
    assert received["description"]
    schema = received["payloadSchema"]
    assert schema["type"] == "object"
    assert {"remoteJid", "messageId", "providerSessionId", "fromMe"} <= set(schema["properties"])
    assert "labels" not in schema["properties"]  # account-specific, never in an event
    disabled = rows["webhook.disabled"]["payloadSchema"]
    assert set(disabled["properties"]) == {"webhookId", "reason"}


async def test_the_catalogue_needs_credentials(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/events/types"), 401)


async def test_api_accounts_read_the_catalogue_too(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    created = await client.post(
        f"/accounts/{owner.account_id}/api-accounts",
        json={"name": "erp", "role": "viewer"},
        headers=owner.headers,
    )
    key = created.json()["data"]
    response = await client.get(
        "/events/types", headers={"x-api-key": key["key"], "x-api-secret": key["secret"]}
    )
    assert response.status_code == 200
    assert {row["type"] for row in response.json()["data"]} >= DECLARED


async def test_openapi_lists_every_event_type_as_a_webhook(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    webhooks = document["webhooks"]
    assert set(webhooks) >= DECLARED
    post = webhooks["wa.message.received"]["post"]
    assert post["description"].startswith("A customer's message arrived.")
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"id", "type", "accountId", "createdAt", "actor", "data"} <= set(body["properties"])
    assert body["properties"]["type"]["const"] == "wa.message.received"
    data_ref = body["properties"]["data"]["$ref"].rsplit("/", 1)[1]
    assert "remoteJid" in document["components"]["schemas"][data_ref]["properties"]


async def test_webhooks_refuse_event_types_that_do_not_exist(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    base = f"/accounts/{owner.account_id}/webhooks"

    async def create(events: list[str]) -> httpx.Response:
        return await client.post(
            base, json={"url": "http://127.0.0.1:9/in", "events": events}, headers=owner.headers
        )

    for unknown in (["wa.message.recieved"], ["order.shipped"], ["nothing.*"], ["wa.mesage.*"]):
        error = assert_error(await create(unknown), 422, "validation_error")
        assert error["details"]["fields"][0]["path"].startswith("events")
        assert "/events/types" in error["details"]["fields"][0]["message"]
    for accepted in (["*"], ["wa.*"], ["wa.message.*"], ["wa.message.received", "webhook.*"]):
        response = await create(accepted)
        assert response.status_code == 201, response.text
        assert response.json()["data"]["events"] == accepted

    hook = (await create(["wa.*"])).json()["data"]
    refused = await client.patch(
        f"{base}/{hook['id']}", json={"events": ["invoice.*"]}, headers=owner.headers
    )
    assert_error(refused, 422, "validation_error")
    kept = await client.get(f"{base}/{hook['id']}", headers=owner.headers)
    assert kept.json()["data"]["events"] == ["wa.*"]
