from __future__ import annotations

import httpx


async def test_health_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": True, "data": {"status": "ok"}}
    assert response.headers["x-request-id"]


async def test_ready_checks_postgres_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["data"] == {"status": "ok", "postgres": True, "redis": True}


async def test_request_id_is_echoed_when_sane(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    response = await client.get("/health", headers={"x-request-id": "bad id with spaces"})
    assert response.headers["x-request-id"] != "bad id with spaces"


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/accounts/00000000-0000-0000-0000-000000000000/users")
    body = (await client.get("/metrics")).text
    assert (
        'ticaret_http_requests_total{method="GET",route="/accounts/{accountId}/users",status="401"}'
        in body
    )
    assert "ticaret_http_request_duration_seconds_bucket" in body


async def test_openapi_documents_routes_and_security(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["info"]["title"] == "Ticaret API"
    login = spec["paths"]["/auth/login"]["post"]
    assert login["summary"] and "401" in login["responses"]
    schemes = spec["components"]["securitySchemes"]
    assert {"AccessToken", "ApiKey", "ApiSecret"} <= set(schemes)
