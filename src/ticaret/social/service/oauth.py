"""Onboarding: the authorize URL with a signed single-use state, and the callback that turns
Meta's code into long-lived tokens, stored assets and webhook subscriptions.

The state is a JWT (account, user, redirect, nonce, platform; signed with our key, expiring)
and a row keyed by the nonce's hash. The callback consumes the row in a transaction of its own,
before any Graph call: a replayed state finds it used even when the first callback failed
half-way, and the browser goes back only to the redirect stored with it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.auth import AccountContext
from ticaret.core.db import unit_of_work
from ticaret.core.events import Actor, emit
from ticaret.core.security import decode_scoped_token, issue_scoped_token
from ticaret.models import AssetFeature, AssetStatus, MetaAsset, MetaOAuthState
from ticaret.settings import Settings
from ticaret.social.config import graph_for, redirect_uri
from ticaret.social.errors import InvalidOAuthState, RedirectNotAllowed
from ticaret.social.events import events_of
from ticaret.social.graph.errors import GraphError
from ticaret.social.graph.normalized import DiscoveredAsset
from ticaret.social.repository import assets as repository
from ticaret.social.schemas import OAuthStart, OAuthUrl
from ticaret.social.service.common import asset_changed, encrypt_token, now

logger = logging.getLogger("ticaret.social.oauth")

STATE_TYPE = "meta_oauth_state"

# Permissions per feature (https://developers.facebook.com/docs/permissions).
FACEBOOK_SCOPES: dict[str, tuple[str, ...]] = {
    "base": ("pages_show_list", "pages_manage_metadata"),
    AssetFeature.messaging: ("pages_messaging",),
    AssetFeature.comments: (
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_engagement",
    ),
    AssetFeature.publishing: ("pages_manage_posts", "pages_read_engagement"),
}
INSTAGRAM_SCOPES: dict[str, tuple[str, ...]] = {
    "base": ("instagram_business_basic",),
    AssetFeature.messaging: ("instagram_business_manage_messages",),
    AssetFeature.comments: ("instagram_business_manage_comments",),
    AssetFeature.publishing: ("instagram_business_content_publish",),
}


def scopes_for(platform: str, features: list[AssetFeature]) -> list[str]:
    table = FACEBOOK_SCOPES if platform == "facebook" else INSTAGRAM_SCOPES
    wanted = [*table["base"]]
    for feature in features:
        wanted.extend(table[feature])
    return list(dict.fromkeys(wanted))


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def allowed_redirect(url: str, settings: Settings) -> bool:
    """A path on this API (`/...`, never `//host` or `/\\host`), or a URL on an allowed origin."""
    if any(ord(c) < 32 or c in "\\" for c in url):
        return False
    if url.startswith("/"):
        return not url.startswith("//")
    parts = urlsplit(url)
    if parts.username or parts.password or parts.fragment:
        return False
    origin = _origin(url)
    allowed = {o for o in (_origin(entry) for entry in settings.meta.redirect_origins) if o}
    return origin is not None and origin in allowed


def with_result(url: str, **result: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in result]
    query.extend(result.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


async def start(
    session: AsyncSession,
    settings: Settings,
    ctx: AccountContext,
    platform: str,
    body: OAuthStart,
) -> OAuthUrl:
    graph = graph_for(platform, settings)  # 503 before anything when the app is not set up
    if not allowed_redirect(body.redirect_url, settings):
        raise RedirectNotAllowed(
            details={"fields": [{"path": "redirectUrl", "message": "not an allowed redirect"}]}
        )
    features = list(dict.fromkeys(body.features)) or list(AssetFeature)
    ttl = settings.meta.oauth_state_ttl_seconds
    nonce = secrets.token_urlsafe(24)
    expires_at = now() + timedelta(seconds=ttl)
    repository.add_state(
        session,
        platform=platform,
        account_id=ctx.account_id,
        user_id=ctx.principal.user_id,
        actor_type=ctx.actor.type,
        actor_id=ctx.actor.id,
        redirect_url=body.redirect_url,
        features=[f.value for f in features],
        nonce_hash=_nonce_hash(nonce),
        expires_at=expires_at,
    )
    user = ctx.principal.user_id
    state = issue_scoped_token(
        settings,
        {
            "sub": str(ctx.account_id),
            "usr": str(user) if user else "",
            "plt": platform,
            "rdr": body.redirect_url,
            "nonce": nonce,
        },
        ttl,
        STATE_TYPE,
    )
    scopes = scopes_for(platform, features)
    callback = redirect_uri(platform, settings)
    return OAuthUrl(
        url=graph.authorize_url(state=state, redirect_uri=callback, scopes=scopes),
        state=state,
        expires_at=expires_at,
        scopes=scopes,
        redirect_uri=callback,
    )


@dataclass(frozen=True)
class CallbackQuery:
    code: str | None
    state: str | None
    error: str | None
    error_reason: str | None
    error_description: str | None


async def _consume(settings: Settings, platform: str, state: str | None) -> MetaOAuthState:
    claims = decode_scoped_token(settings, state, STATE_TYPE) if state else None
    if claims is None or claims.get("plt") != platform or not isinstance(claims.get("nonce"), str):
        raise InvalidOAuthState()
    # Committed at once: the state is spent whatever happens next.
    async with unit_of_work() as session:
        consumed = await repository.consume_state(
            session, _nonce_hash(claims["nonce"]), platform, now()
        )
        if consumed is None or str(consumed.account_id) != claims.get("sub"):
            raise InvalidOAuthState()
        return consumed


async def _store_asset(
    session: AsyncSession,
    state: MetaOAuthState,
    found: DiscoveredAsset,
    scopes: list[str],
) -> MetaAsset:
    asset = await repository.asset_by_external(
        session, state.account_id, state.platform, found.external_id
    )
    moment = now()
    expires = moment + timedelta(seconds=found.token_expires_in) if found.token_expires_in else None
    values = {
        "name": found.name[:200],
        "username": found.username,
        "category": found.category,
        "picture_url": found.picture_url,
        "app_scoped_id": found.app_scoped_id,
        "status": AssetStatus.active,
        "token_encrypted": encrypt_token(found.access_token),
        "token_expires_at": expires,
        "token_refreshed_at": moment,
        "scopes": list(found.scopes) or scopes,
        "last_error": None,
    }
    if asset is None:
        asset = MetaAsset(
            account_id=state.account_id,
            platform=state.platform,
            external_id=found.external_id,
            features=list(state.features),
            subscribed_fields=[],
            connected_by_type=state.actor_type,
            connected_by_id=state.actor_id,
            **values,
        )
        session.add(asset)
    else:
        for key, value in values.items():
            setattr(asset, key, value)
        asset.features = sorted(set(asset.features) | set(state.features))
    await session.flush()
    return asset


async def callback(
    session: AsyncSession, settings: Settings, platform: str, query: CallbackQuery
) -> str:
    """Where to send the browser: the stored redirect, with `status` and details added."""
    state = await _consume(settings, platform, query.state)
    back = state.redirect_url
    if not allowed_redirect(back, settings):
        # The allowed origins changed since the link was made.
        raise InvalidOAuthState("The redirect of this onboarding is no longer allowed.")
    name = "facebook" if platform == "facebook" else "instagram"
    if query.error:
        status = "denied" if query.error == "access_denied" else "error"
        return with_result(back, status=status, platform=name, error=query.error[:100])
    if not query.code:
        return with_result(back, status="error", platform=name, error="missing_code")
    graph = graph_for(platform, settings)
    scopes = scopes_for(platform, [AssetFeature(f) for f in state.features])
    try:
        grant = await graph.exchange_code(query.code, redirect_uri(platform, settings))
        found = await graph.connected_assets(grant)
    except GraphError as exc:
        logger.warning("%s onboarding for account %s failed: %s", name, state.account_id, exc)
        return with_result(back, status="error", platform=name, error="graph_error")
    if not found:
        return with_result(back, status="error", platform=name, error="no_assets")
    connected: list[MetaAsset] = []
    for discovered in found:
        asset = await _store_asset(session, state, discovered, scopes)
        try:
            asset.subscribed_fields = await graph.subscribe(
                discovered.external_id, discovered.access_token
            )
            asset.subscription_error = None
        except GraphError as exc:
            # Connected all the same: sync and sends work; the operator sees why no webhooks.
            asset.subscription_error = str(exc)[:1000]
        connected.append(asset)
    await session.flush()
    actor = Actor(state.actor_type, state.actor_id)
    for asset in connected:
        emit(
            session,
            events_of(platform).asset_connected,
            asset_changed(asset, None),
            account_id=asset.account_id,
            actor=actor,
        )
    return with_result(
        back,
        status="connected",
        platform=name,
        assets=str(len(connected)),
        assetIds=",".join(str(a.id) for a in connected),
    )
