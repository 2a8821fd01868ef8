from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select, text

from tests.helpers import Caller, Mailbox, assert_error, login, register, token_from
from ticaret.core.db import get_sessionmaker
from ticaret.core.embedded import free_port
from ticaret.models import OutgoingEmail
from ticaret.settings import get_settings


async def test_register_returns_a_working_token_and_an_owned_account(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/auth/register",
        json={
            "email": "Ayse@Example.com",
            "password": "s3cret-pass",
            "name": "Ayşe",
            "accountName": "Ayşe Butik",
        },
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["tokenType"] == "Bearer" and data["expiresIn"] > 0
    assert data["accounts"][0]["accountName"] == "Ayşe Butik"
    assert data["accounts"][0]["role"] == "owner"
    assert "passwordHash" not in data["user"] and "password" not in json.dumps(data)
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {data['accessToken']}"})
    assert me.status_code == 200
    assert me.json()["data"]["principalType"] == "user"
    # The domain part of an address is case-insensitive and stored lowercased.
    assert me.json()["data"]["user"]["email"] == "Ayse@example.com"
    assert re.match(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", me.json()["data"]["user"]["createdAt"]
    )


async def test_register_rejects_duplicates_and_bad_bodies(client: httpx.AsyncClient) -> None:
    await register(client, email="dup@example.com")
    assert_error(
        await client.post(
            "/auth/register",
            json={"email": "DUP@example.com", "password": "another-pass", "name": "X"},
        ),
        409,
        "email_taken",
    )
    error = assert_error(
        await client.post(
            "/auth/register", json={"email": "not-an-email", "password": "short", "name": ""}
        ),
        422,
        "validation_error",
    )
    paths = {f["path"] for f in error["details"]["fields"]}
    assert {"email", "password", "name"} <= paths
    assert_error(
        await client.post(
            "/auth/register", content=b"{not json", headers={"content-type": "application/json"}
        ),
        400,
        "invalid_json",
    )
    assert_error(await client.post("/auth/register", json=["a", "list"]), 422)


async def test_login_answers_the_same_for_unknown_email_and_wrong_password(
    client: httpx.AsyncClient,
) -> None:
    caller = await register(client)
    wrong = await client.post(
        "/auth/login", json={"email": caller.email, "password": "wrong password"}
    )
    unknown = await client.post(
        "/auth/login", json={"email": "nobody@example.com", "password": "wrong password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    token = await login(client, caller.email.upper(), caller.password)
    assert (
        await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200


async def test_login_is_rate_limited_per_email(client: httpx.AsyncClient) -> None:
    caller = await register(client)
    for _ in range(10):
        await client.post("/auth/login", json={"email": caller.email, "password": "wrong password"})
    response = await client.post(
        "/auth/login", json={"email": caller.email, "password": caller.password}
    )
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) > 0


async def test_logout_requires_auth(client: httpx.AsyncClient) -> None:
    caller = await register(client)
    assert (await client.post("/auth/logout", headers=caller.headers)).status_code == 200
    assert_error(await client.post("/auth/logout"), 401, "unauthorized")


async def test_forgot_password_answers_200_whether_or_not_the_email_exists(
    client: httpx.AsyncClient, run_jobs: Any
) -> None:
    caller = await register(client)
    known = await client.post("/auth/forgot-password", json={"email": caller.email})
    unknown = await client.post("/auth/forgot-password", json={"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    await run_jobs()
    async with get_sessionmaker()() as session:
        emails = (await session.scalars(select(OutgoingEmail))).all()
    # SMTP is off: the email is stored and logged, so `make dev` shows the link.
    assert [(e.to_address, e.kind, e.status) for e in emails] == [
        (caller.email, "password_reset", "logged")
    ]


async def test_password_reset_over_real_smtp_invalidates_old_tokens(
    client: httpx.AsyncClient, run_jobs: Any, smtp_server: Mailbox
) -> None:
    caller = await register(client)
    old_token = caller.token
    assert (
        await client.post("/auth/forgot-password", json={"email": caller.email})
    ).status_code == 200
    await run_jobs()
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["to"] == [caller.email]
    reset_token = token_from(smtp_server.messages[0]["body"])

    # Tokens are stored hashed, never in clear.
    async with get_sessionmaker()() as session:
        stored = (
            (await session.execute(text("SELECT token_hash FROM password_tokens"))).scalars().all()
        )
    assert stored and reset_token not in stored

    reset = await client.post(
        "/auth/reset-password", json={"token": reset_token, "password": "brand new pass"}
    )
    assert reset.status_code == 200, reset.text
    assert_error(
        await client.get("/auth/me", headers={"Authorization": f"Bearer {old_token}"}),
        401,
        "invalid_token",
    )
    assert_error(
        await client.post("/auth/login", json={"email": caller.email, "password": caller.password}),
        401,
    )
    new_token = await login(client, caller.email, "brand new pass")
    assert (
        await client.get("/auth/me", headers={"Authorization": f"Bearer {new_token}"})
    ).status_code == 200
    # Single use.
    again = await client.post(
        "/auth/reset-password", json={"token": reset_token, "password": "third pass 123"}
    )
    assert_error(again, 400, "invalid_token")


async def test_stored_emails_keep_no_usable_token_once_sent(
    client: httpx.AsyncClient, run_jobs: Any, smtp_server: Mailbox
) -> None:
    caller = await register(client, name="Owner")
    await client.post("/auth/forgot-password", json={"email": caller.email})
    invited = await client.post(
        f"/accounts/{caller.account_id}/users",
        json={"email": "invitee@example.com", "role": "viewer"},
        headers=caller.headers,
    )
    assert invited.status_code == 201
    await run_jobs()
    reset_token = token_from(smtp_server.to(caller.email)[0]["body"])
    invitation_token = token_from(smtp_server.to("invitee@example.com")[0]["body"])

    async with get_sessionmaker()() as session:
        stored = (await session.scalars(select(OutgoingEmail).order_by(OutgoingEmail.kind))).all()
    assert [(e.kind, e.status) for e in stored] == [
        ("invitation", "sent"),
        ("password_reset", "sent"),
    ]
    for email in stored:
        assert reset_token not in email.body_text and invitation_token not in email.body_text
        assert email.secret_encrypted is None
        # The rest of the mail is kept for support: who got what, and how to use it.
        assert "/reset-password?token=" in email.body_text

    # What the recipients received still works.
    for token, password in ((reset_token, "new owner pass"), (invitation_token, "invitee pass 1")):
        response = await client.post(
            "/auth/reset-password", json={"token": token, "password": password}
        )
        assert response.status_code == 200, response.text


async def test_without_smtp_the_log_is_the_mailbox_and_the_table_keeps_no_token(
    client: httpx.AsyncClient, run_jobs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caller = await register(client)
    await client.post("/auth/forgot-password", json={"email": caller.email})
    with caplog.at_level(logging.INFO, logger="ticaret.email"):
        await run_jobs()
    token = token_from(next(r.getMessage() for r in caplog.records if "SMTP off" in r.getMessage()))
    async with get_sessionmaker()() as session:
        email = (await session.scalars(select(OutgoingEmail))).one()
    assert email.status == "logged" and token not in email.body_text
    assert email.secret_encrypted is None
    reset = await client.post(
        "/auth/reset-password", json={"token": token, "password": "logged 1234"}
    )
    assert reset.status_code == 200


async def test_reset_token_expires_after_an_hour(
    client: httpx.AsyncClient, smtp_server: Mailbox, run_jobs: Any
) -> None:
    caller = await register(client)
    await client.post("/auth/forgot-password", json={"email": caller.email})
    await run_jobs()
    reset_token = token_from(smtp_server.messages[0]["body"])
    async with get_sessionmaker()() as session:
        ttl = (
            await session.execute(
                text("SELECT extract(epoch FROM expires_at - created_at) FROM password_tokens")
            )
        ).scalar_one()
        assert 3590 <= float(ttl) <= 3610
        # Age the token past its expiry, as if an hour had gone by.
        await session.execute(
            text("UPDATE password_tokens SET expires_at = now() - interval '1 second'")
        )
        await session.commit()
    response = await client.post(
        "/auth/reset-password", json={"token": reset_token, "password": "too late 1234"}
    )
    assert_error(response, 400, "invalid_token")


async def test_smtp_outage_is_recorded_and_retried(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, run_jobs: Any
) -> None:
    caller = await register(client)
    smtp = get_settings().smtp
    monkeypatch.setattr(smtp, "host", "127.0.0.1")
    monkeypatch.setattr(smtp, "port", free_port())  # nothing listens there
    monkeypatch.setattr(smtp, "starttls", False)
    monkeypatch.setattr(smtp, "timeout_seconds", 1.0)
    await client.post("/auth/forgot-password", json={"email": caller.email})
    from ticaret.core.queue import QUEUE_NAME, get_redis
    from ticaret.worker import build_worker

    # Run what is due now (the email and the event consumers' jobs), not the deferred retry
    # (20 s away). On a loaded machine a job can still be on its way into the queue when the
    # first burst counts it, so run bursts until the email has been tried.
    for _ in range(50):
        worker = build_worker(get_redis(), burst=True, with_cron=False)
        worker.max_burst_jobs = await get_redis().zcount(QUEUE_NAME, 0, time.time() * 1000)
        await worker.async_run()
        async with get_sessionmaker()() as session:
            email = (await session.scalars(select(OutgoingEmail))).one()
        if email.attempt_count:
            break
        await asyncio.sleep(0.1)
    assert email.status == "pending" and email.attempt_count == 1
    assert email.last_error and "Connection" in email.last_error


def _forge(claims: dict[str, Any], key: str, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


async def test_tampered_expired_and_unsigned_tokens_are_refused(client: httpx.AsyncClient) -> None:
    caller = await register(client)
    good = jwt.decode(caller.token, options={"verify_signature": False})
    secret = get_settings().auth.jwt_secret.get_secret_value()

    expired = _forge(
        {**good, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, secret
    )
    wrong_key = _forge(good, "not-the-secret-" + "y" * 40)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(
        b"="
    )
    payload = base64.urlsafe_b64encode(json.dumps(good).encode()).rstrip(b"=")
    unsigned = f"{header.decode()}.{payload.decode()}."
    no_exp = _forge({k: v for k, v in good.items() if k != "exp"}, secret)
    other_user = _forge({**good, "sub": "00000000-0000-0000-0000-000000000000"}, secret)

    for token in (expired, wrong_key, unsigned, no_exp, other_user, "garbage", caller.token + "x"):
        assert_error(
            await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}), 401
        )
    assert_error(await client.get("/auth/me", headers={"Authorization": "Basic abc"}), 401)


async def test_a_removed_member_keeps_a_token_but_loses_the_account(
    client: httpx.AsyncClient,
) -> None:
    from tests.helpers import add_member

    owner = await register(client)
    agent = await add_member(client, owner, "agent")
    headers = {**agent.headers, "x-account-id": owner.account_id}
    assert (
        await client.get(f"/accounts/{owner.account_id}/users", headers=agent.headers)
    ).status_code == 200
    removed = await client.delete(
        f"/accounts/{owner.account_id}/users/{agent.user_id}", headers=owner.headers
    )
    assert removed.status_code == 200
    assert_error(
        await client.get(f"/accounts/{owner.account_id}/users", headers=agent.headers), 404
    )
    # Still a valid user (their own account remains), just not in this one.
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    accounts = (await client.get("/accounts", headers=agent.headers)).json()["data"]["rows"]
    assert owner.account_id not in {a["id"] for a in accounts}


async def test_concurrent_logins_hash_off_the_event_loop(client: httpx.AsyncClient) -> None:
    caller: Caller = await register(client)
    started = time.perf_counter()
    results = await asyncio.gather(
        *(login(client, caller.email, caller.password) for _ in range(4))
    )
    assert len(set(results)) == 4  # distinct jti per token
    assert time.perf_counter() - started < 10
