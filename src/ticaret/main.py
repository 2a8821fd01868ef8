"""The FastAPI application: middleware, error handlers, routers, lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from ticaret import wiring
from ticaret.accounts.router import router as accounts_router
from ticaret.agents.router import router as agents_router
from ticaret.ai.router import router as ai_router
from ticaret.auth.router import router as auth_router
from ticaret.catalog.router import router as catalog_router
from ticaret.compat.whattalk.router import router as whattalk_router
from ticaret.console.broker import close_broker
from ticaret.console.router import router as console_router
from ticaret.conversations.router import router as conversations_router
from ticaret.core.auth import document_security
from ticaret.core.body_limit import BodyLimitMiddleware
from ticaret.core.cache import start_cache_listener, stop_cache_listener
from ticaret.core.db import dispose_engine, init_engine
from ticaret.core.devsecrets import ensure_secrets
from ticaret.core.errors import install_error_handlers
from ticaret.core.fastlane import FastLaneMiddleware
from ticaret.core.health import router as health_router
from ticaret.core.http import close_http_client, init_http_client
from ticaret.core.observability import RequestContextMiddleware, configure_logging
from ticaret.core.openapi import install_docs
from ticaret.core.queue import close_redis, init_redis
from ticaret.crm.router import router as crm_router
from ticaret.events.router import document_event_types
from ticaret.events.router import router as events_router
from ticaret.orders.router import router as orders_router
from ticaret.settings import Settings, get_settings
from ticaret.social.router import instagram_router, meta_router
from ticaret.wa.router import router as wa_router
from ticaret.webhooks.router import router as webhooks_router

DESCRIPTION = """
**Ticaret** is a conversational-commerce backend: WhatsApp (through Evolution API or WAHA),
Facebook Page and Instagram inboxes in one place, AI analysis of every customer message,
a CRM and orders.

* Responses use an envelope: `{"status": true, "data": ...}`; errors
  `{"status": false, "error": {"code", "message", "details"}}`.
* Authenticate with `Authorization: Bearer <accessToken>` (from `POST /auth/login`) or the
  pair `x-api-key` + `x-api-secret`. Domain endpoints act in the account named by `x-account-id`.
* Lists are cursor-paginated: `cursor`, `limit` (max 200) → `rows`, `nextCursor`, `hasMore`.
"""

TAGS = [
    {
        "name": "Auth",
        "description": "Registration, login sessions (refresh tokens), password resets, "
        "email confirmation and invitations.",
    },
    {"name": "Accounts", "description": "Accounts, their users and API accounts."},
    {"name": "Webhooks", "description": "Outgoing webhooks: endpoints, deliveries, tests."},
    {
        "name": "Events",
        "description": "The event type catalogue; the `webhooks` section shows each payload.",
    },
    {"name": "Console", "description": "Live event console and its server-sent event stream."},
    {"name": "WhatsApp sessions", "description": "Gateway sessions, pairing and sharing."},
    {"name": "WhatsApp", "description": "Chats, contacts, messages, actions and media."},
    {"name": "WhatsApp labels", "description": "Account labels on chats and messages."},
    {
        "name": "WhatsApp provider events",
        "description": "Gateway webhooks in, and the sandbox's inbound injector.",
    },
    {
        "name": "Meta (Facebook Pages)",
        "description": "Page onboarding, Messenger threads, posts, comments and the signed "
        "webhook receiver.",
    },
    {
        "name": "Instagram",
        "description": "Instagram professional accounts (Instagram Login): DMs, media "
        "publishing, comments and the signed webhook receiver.",
    },
    {
        "name": "CRM customers",
        "description": "Customers (search, filters), their representatives and teams.",
    },
    {"name": "CRM contacts", "description": "The people under customers."},
    {"name": "CRM groups", "description": "Teams of users; admins manage them."},
    {
        "name": "CRM identities",
        "description": "Channel identities mapped to customers; chats no customer is linked to.",
    },
    {
        "name": "CRM chats",
        "description": "A WhatsApp chat's (and its messages') assignment and customer link.",
    },
    {"name": "CRM assignments", "description": "Bulk assignment and the assignment history."},
    {"name": "CRM notes", "description": "Private notes on customers."},
    {"name": "CRM comments", "description": "Comments on customers and tasks, with mentions."},
    {"name": "CRM tasks", "description": "Tasks, their watchers and checklists."},
    {"name": "CRM timeline", "description": "Everything about a customer in one feed."},
    {"name": "CRM inbox links", "description": "Whole inboxes bound to customers."},
    {"name": "CRM audit", "description": "Who changed what on a customer."},
    {
        "name": "Products",
        "description": "The product catalog: products, variants, image metadata, search and "
        'bulk imports (JSON, CSV, XLSX). Amounts are decimal strings (`"1299.90"`).',
    },
    {
        "name": "Orders",
        "description": "Orders of CRM customers: lines with product snapshots, money as decimal "
        "strings rounded per line, the status machine and its history.",
    },
    {
        "name": "AI settings",
        "description": "The account's AI provider (OpenAI or any OpenAI-compatible endpoint), "
        "model, encrypted key, automation and budget.",
    },
    {
        "name": "AI analysis",
        "description": "Every customer message analysed: intent, product matches from the "
        "catalog, an order draft and a suggested reply; retries, feedback, orders from them.",
    },
    {
        "name": "AI agents",
        "description": "Assistants that answer customers in conversations with the shop's "
        "tools (catalog, stock, order drafts, CRM, handoff to people); every run and step "
        "recorded with tokens and cost.",
    },
    {
        "name": "Conversations",
        "description": "One conversation resource over every channel (WhatsApp, Messenger, "
        "Instagram, api, widget, test): multilingual messages (Connect360 send), history with "
        "the AI's function calls, human takeover, attachments.",
    },
    {
        "name": "WhatTalk compatible",
        "description": "WhatTalk's conversation list and history, byte for byte: a WhatTalk "
        "client works by changing its base URL. Authorization: Bearer <apiKey>:<apiSecret>.",
    },
    {"name": "Operations", "description": "Health, readiness and metrics."},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    ensure_secrets(settings)
    # The same jobs, event types and outbox consumers as the worker.
    wiring.load()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url or not settings.redis_url:
            raise RuntimeError(
                "TICARET_DATABASE_URL and TICARET_REDIS_URL must be set (`ticaret dev` sets them)"
            )
        init_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            autocommit_pool_size=settings.db_autocommit_pool_size,
        )
        await init_redis(settings.redis_url)
        await start_cache_listener()
        init_http_client()
        # Everything loaded so far (the app, its models and routes) lives as long as the
        # process: keep it out of the collector's full passes, which otherwise stall requests.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await stop_cache_listener()
            await close_broker()
            await close_http_client()
            await close_redis()
            await dispose_engine()

    app = FastAPI(
        title="Ticaret API",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs without a CDN
        redoc_url=None,
        # Metrics are Prometheus (/metrics). FastAPI's OpenTelemetry hook would otherwise look
        # up the global providers (and the environment) on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_docs(app)
    install_error_handlers(app)
    # Innermost: the hottest reads skip routing and dependency solving, but not the request
    # id, metrics, CORS or body limits around them.
    app.add_middleware(FastLaneMiddleware)
    # Its 413 still gets CORS headers and a request id.
    app.add_middleware(BodyLimitMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(RequestContextMiddleware)
    for router in (
        health_router,
        auth_router,
        accounts_router,
        webhooks_router,
        events_router,
        console_router,
        wa_router,
        crm_router,
        meta_router,
        instagram_router,
        catalog_router,
        orders_router,
        ai_router,
        agents_router,
        conversations_router,
        whattalk_router,
    ):
        app.include_router(router)
    document_event_types(app)
    document_security(app)
    return app


def app_factory() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level, settings.json_logs)
    return create_app(settings)
