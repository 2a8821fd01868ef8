"""The operator's Meta and Instagram apps, and the Graph adapters built from them."""

from __future__ import annotations

from dataclasses import dataclass

from ticaret.settings import Settings
from ticaret.social.errors import MetaNotConfigured
from ticaret.social.graph import usage as usage_gate
from ticaret.social.graph.facebook import FacebookGraph
from ticaret.social.graph.instagram import InstagramGraph
from ticaret.social.graph.transport import UsageRecorder
from ticaret.social.graph.usage import Usage


@dataclass(frozen=True)
class AppConfig:
    app_id: str
    app_secret: str
    verify_token: str | None


def facebook_app(settings: Settings) -> AppConfig:
    meta = settings.meta
    if not meta.app_id or meta.app_secret is None or not meta.app_secret.get_secret_value():
        raise MetaNotConfigured()
    token = meta.verify_token.get_secret_value() if meta.verify_token else None
    return AppConfig(meta.app_id, meta.app_secret.get_secret_value(), token or None)


def instagram_app(settings: Settings) -> AppConfig:
    """Instagram's own app id, secret and verify token, or the Meta app's where unset."""
    ig, meta = settings.instagram, settings.meta
    app_id = ig.app_id or meta.app_id
    secret = ig.app_secret or meta.app_secret
    if not app_id or secret is None or not secret.get_secret_value():
        raise MetaNotConfigured(
            "The Instagram app is not configured here (TICARET_INSTAGRAM__APP_ID and "
            "TICARET_INSTAGRAM__APP_SECRET, or the TICARET_META__ ones)."
        )
    verify = ig.verify_token or meta.verify_token
    token = verify.get_secret_value() if verify else None
    return AppConfig(app_id, secret.get_secret_value(), token or None)


def app_for(platform: str, settings: Settings) -> AppConfig:
    return facebook_app(settings) if platform == "facebook" else instagram_app(settings)


def usage_recorder(platform: str, settings: Settings) -> UsageRecorder:
    """Holds sync jobs back when an answer reports usage above the threshold."""

    async def record(usage: Usage) -> None:
        seconds = usage_gate.backoff_seconds(
            usage, settings.meta.usage_backoff_threshold, settings.meta.usage_backoff_max_seconds
        )
        if seconds <= 0:
            return
        await usage_gate.hold(platform, "app", seconds)
        for scope in usage.objects:
            await usage_gate.hold(platform, scope, seconds)

    return record


def facebook_graph(settings: Settings) -> FacebookGraph:
    app = facebook_app(settings)
    return FacebookGraph(
        app_id=app.app_id,
        app_secret=app.app_secret,
        graph_base_url=settings.meta.graph_base_url,
        dialog_base_url=settings.meta.dialog_base_url,
        timeout=settings.meta.request_timeout_seconds,
        record_usage=usage_recorder("facebook", settings),
    )


def instagram_graph(settings: Settings) -> InstagramGraph:
    app = instagram_app(settings)
    return InstagramGraph(
        app_id=app.app_id,
        app_secret=app.app_secret,
        graph_base_url=settings.instagram.graph_base_url,
        authorize_url=settings.instagram.authorize_url,
        token_url=settings.instagram.token_url,
        timeout=settings.meta.request_timeout_seconds,
        record_usage=usage_recorder("instagram", settings),
    )


def graph_for(platform: str, settings: Settings) -> FacebookGraph | InstagramGraph:
    return facebook_graph(settings) if platform == "facebook" else instagram_graph(settings)


def redirect_uri(platform: str, settings: Settings) -> str:
    """The OAuth redirect_uri: the same string in the dialog and in the code exchange."""
    configured = (
        settings.meta.oauth_redirect_uri
        if platform == "facebook"
        else settings.instagram.oauth_redirect_uri
    )
    path = "/meta/oauth/callback" if platform == "facebook" else "/instagram/oauth/callback"
    return configured or f"{settings.public_base_url.rstrip('/')}{path}"
