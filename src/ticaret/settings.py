"""Runtime configuration, read from `TICARET_*` environment variables (and `.env`)."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A list setting written as `a,b,c` (or as a JSON list) in the environment.
CommaList = Annotated[list[str], NoDecode]


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class AuthSettings(BaseModel):
    # How long a process may answer "who is this, and may they act here" from memory. Revoking
    # a key, ending a session or changing a role drops the answers everywhere at once (Redis
    # pub/sub); if that message is lost, this is how long the old answer can still be served.
    cache_ttl_seconds: float = Field(default=5.0, ge=0, le=60)
    # HS256 signing key for access tokens. Must be set in production; dev/test generate one.
    jwt_secret: SecretStr = SecretStr("")
    jwt_issuer: str = "ticaret"
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    # A refresh token is single use: each refresh returns a new one valid this long (idle limit).
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=300, le=365 * 86_400)
    # However often it is refreshed, a login session ends this long after the login.
    session_max_age_seconds: int = Field(default=90 * 86_400, ge=300, le=730 * 86_400)
    reset_token_ttl_seconds: int = Field(default=3600, ge=300, le=86_400)
    # Link mailed to confirm an address (registration of an invited email).
    verification_token_ttl_seconds: int = Field(default=7 * 86_400, ge=300, le=30 * 86_400)
    # Login guessing, per email whatever the caller's address: the first `login_free_attempts`
    # attempts are free, then each one waits base * 2**n seconds (at most `login_delay_max`).
    # A success or a password reset clears it; an hour without attempts forgets it.
    login_free_attempts: int = Field(default=5, ge=1, le=100)
    login_delay_base_seconds: float = Field(default=1.0, gt=0, le=60)
    login_delay_max_seconds: int = Field(default=900, ge=1, le=86_400)
    login_attempt_window_seconds: int = Field(default=3600, ge=60, le=86_400)
    # Invitations (emails sent to addresses without an account) per account per hour.
    invitations_per_hour: int = Field(default=20, ge=1, le=10_000)
    # Fernet keys (comma separated, newest first) for third-party secrets at rest.
    fernet_keys: SecretStr = SecretStr("")


class SmtpSettings(BaseModel):
    host: str | None = None
    port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    use_tls: bool = False
    sender: str = "Ticaret <no-reply@ticaret.local>"
    timeout_seconds: float = 10.0


class WebhookSettings(BaseModel):
    # Allow customer webhook URLs that point at private/loopback addresses (SSRF guard off).
    allow_private_targets: bool = False
    timeout_seconds: float = 15.0
    # Multiplies every retry delay; tests and staging shrink the ~3-day schedule to seconds.
    retry_delay_scale: float = Field(default=1.0, ge=0.0, le=10.0)
    # How long a rotated-out secret keeps signing next to the new one.
    rotation_grace_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400)
    # Deliveries claimed, sent concurrently and recorded together (one transaction each way).
    batch_size: int = Field(default=100, ge=1, le=1000)
    # Attempts in flight at once per process, across every job (each holds a connection).
    max_concurrent_sends: int = Field(default=200, ge=1, le=5000)


class WaSettings(BaseModel):
    # The built-in sandbox gateway (no phone): on by default outside production.
    sandbox_enabled: bool | None = None
    # Multiplies the sandbox's simulated ack delays (0 delivers acks at once).
    sandbox_ack_delay_scale: float = Field(default=1.0, ge=0)
    # Largest gateway webhook body we store, and largest uploaded file to send.
    max_event_bytes: int = 5 * 1024 * 1024
    max_upload_bytes: int = 16 * 1024 * 1024
    operation_max_attempts: int = Field(default=5, ge=1, le=20)
    # Backoff between gateway retries: base * 2**(attempt-1) seconds.
    operation_retry_base_seconds: float = Field(default=2.0, ge=0)
    # Timeout for gateway calls made inside an API request (status, QR, logout).
    request_timeout_seconds: float = 10.0
    # A session's gateway (its config.baseUrl) must be on a public address, unless the operator
    # lists it here: host names, IP addresses or CIDR networks, e.g. `evolution,10.0.0.0/8` for
    # a gateway running beside us. Tenants cannot widen this; it is checked on every connection.
    private_gateway_hosts: CommaList = []
    # Hosts media may be fetched from besides the session's own gateway and WhatsApp's media CDN
    # (*.whatsapp.net): the S3/MinIO host a gateway uploads media to, e.g. `minio.internal`.
    media_hosts: CommaList = []

    @field_validator("private_gateway_hosts", "media_hosts", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _comma_list(value)


GRAPH_VERSION = "v25.0"


class MetaSettings(BaseModel):
    """The Facebook app behind Page onboarding, Messenger and Page webhooks."""

    app_id: str | None = None
    app_secret: SecretStr | None = None
    # What Meta echoes back when it verifies the webhook URL (`hub.verify_token`).
    verify_token: SecretStr | None = None
    # Graph API base with the pinned version (tests, proxies and air-gapped fakes point it
    # elsewhere).
    graph_base_url: str = f"https://graph.facebook.com/{GRAPH_VERSION}"
    # Where the Login dialog lives (`{base}/{version}/dialog/oauth`).
    dialog_base_url: str = "https://www.facebook.com"
    # The OAuth redirect_uri registered with the app (default: the public base URL +
    # /meta/oauth/callback).
    oauth_redirect_uri: str | None = None
    # Origins (scheme://host[:port]) the browser may be sent back to after onboarding; a relative
    # path is always allowed. Anything else is refused: no open redirect.
    redirect_origins: list[str] = []
    oauth_state_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    # Meta batches up to 1,000 changes in one POST.
    webhook_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    request_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # Above this share (percent) of any rate limit the usage headers report, sync jobs wait before
    # their next call: Meta's own `estimated_time_to_regain_access`, or up to the max below.
    usage_backoff_threshold: int = Field(default=80, ge=1, le=100)
    usage_backoff_max_seconds: float = Field(default=300.0, ge=0)
    # A sync waits this long in place; a longer backoff re-queues the job for later.
    sync_max_inline_wait_seconds: float = Field(default=60.0, ge=0)
    # Graph pages read per list (conversations, messages of one conversation, posts, comments).
    sync_max_pages: int = Field(default=20, ge=1, le=1000)
    # Sends, replies and publishing: tries on 5xx / rate limits, backoff base * 2**(try-1).
    operation_max_attempts: int = Field(default=5, ge=1, le=20)
    operation_retry_base_seconds: float = Field(default=2.0, ge=0)
    # Instagram containers: seconds between status checks, and how many before giving up.
    publish_poll_seconds: float = Field(default=10.0, ge=0)
    publish_max_polls: int = Field(default=30, ge=1, le=500)


class InstagramSettings(BaseModel):
    """The Instagram app (Instagram API with Instagram Login); id, secret and verify token fall
    back to the Meta app's when unset."""

    app_id: str | None = None
    app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None
    graph_base_url: str = f"https://graph.instagram.com/{GRAPH_VERSION}"
    authorize_url: str = "https://www.instagram.com/oauth/authorize"
    token_url: str = "https://api.instagram.com/oauth/access_token"  # noqa: S105 - a URL
    oauth_redirect_uri: str | None = None
    # Long-lived tokens last 60 days; the refresh job renews them this many days before expiry.
    token_refresh_days_before: int = Field(default=10, ge=1, le=59)


class AiConfig(BaseModel):
    """The operator's side of AI analysis; each account picks its provider, model and key."""

    # The `openai` provider's endpoint (tests, proxies and air-gapped fakes point it elsewhere).
    openai_base_url: str = "https://api.openai.com/v1"
    default_model: str = "gpt-4o-mini"
    default_vision_model: str = "gpt-4o-mini"
    # OpenAI-compatible endpoints are chosen by tenants, so calls go through the SSRF guard.
    # A self-hosted install with a local Ollama or vLLM allows private addresses here, either
    # all of them or the listed hosts, IPs and CIDR networks (`ollama,10.0.0.0/8`).
    allow_private_endpoints: bool = False
    private_endpoint_hosts: CommaList = []
    request_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    # `POST /ai/settings/test` answers inside the request: a shorter timeout.
    test_timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    # A failed analysis (provider down, rate limited) is tried again this many times in all,
    # waiting base * 2**(attempt-1) seconds (at most the max), or the provider's Retry-After.
    max_attempts: int = Field(default=4, ge=1, le=20)
    retry_base_seconds: float = Field(default=5.0, ge=0)
    retry_max_seconds: float = Field(default=600.0, ge=0)
    # An analysis held back by its account's concurrency limit looks for a free slot again
    # after this long (a finishing analysis also hands its slot on at once).
    hold_seconds: float = Field(default=2.0, ge=0)
    # An analysis `processing` for longer than this lost its worker: the sweeper frees it.
    processing_lease_seconds: float = Field(default=300.0, gt=0)
    # Largest image sent to the vision model.
    max_image_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # USD per million tokens (input, output), for the cost estimate of each analysis; models
    # missing here get no estimate.
    model_prices: dict[str, tuple[Decimal, Decimal]] = {
        "gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
        "gpt-4o": (Decimal("2.50"), Decimal("10.00")),
        "gpt-4.1": (Decimal("2.00"), Decimal("8.00")),
        "gpt-4.1-mini": (Decimal("0.40"), Decimal("1.60")),
        "gpt-4.1-nano": (Decimal("0.10"), Decimal("0.40")),
    }

    @field_validator("private_endpoint_hosts", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _comma_list(value)


class CatalogSettings(BaseModel):
    # Largest CSV/XLSX upload (bytes) for POST /products/import, and largest JSON import body.
    max_import_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    max_json_import_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Imports up to this many rows answer at once; larger ones run as a job (202).
    sync_import_max_rows: int = Field(default=1000, ge=1, le=100_000)
    # Rows written per bulk statement (and per committed step of an import job).
    import_chunk_rows: int = Field(default=10_000, ge=100, le=100_000)
    # Row errors an import keeps and reports (the total is always counted).
    import_error_limit: int = Field(default=200, ge=1, le=10_000)
    # Currency of imported rows that name none (ISO 4217).
    default_currency: str = Field(default="TRY", min_length=3, max_length=3)


class OrderSettings(BaseModel):
    # Order numbers are `<prefix><number>`, the number zero-padded to `number_digits`: TS-000123.
    number_prefix: str = Field(default="TS-", max_length=10)
    number_digits: int = Field(default=6, ge=1, le=12)
    # Currency of an order that names none and has no product line to take it from.
    default_currency: str = Field(default="TRY", min_length=3, max_length=3)


class AttachmentSettings(BaseModel):
    # Where uploaded files live, one file per SHA-256 (`<dir>/ab/abcdef...`). Empty: the
    # `attachments` folder of `data_dir`. In docker-compose it is a volume.
    dir: str = ""
    # Largest file POST /attachments takes (bytes).
    max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TICARET_",
        env_nested_delimiter="__",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
    )

    environment: Literal["development", "test", "production"] = "development"
    # Empty means "start the embedded server" (dev and tests only).
    database_url: str = ""
    redis_url: str = ""
    # Where `ticaret dev` keeps embedded Postgres/Redis data between runs.
    data_dir: str = ".dev-data"
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_json: bool | None = None
    # Connections per process for transactions (requests and jobs in flight): size it to the
    # concurrency a process runs at; past it, each extra checkout opens and closes a connection.
    db_pool_size: int = Field(default=20, ge=1, le=500)
    db_max_overflow: int = Field(default=10, ge=0, le=500)
    # Connections per process for reads outside a transaction (auth, hot lists).
    db_autocommit_pool_size: int = Field(default=20, ge=1, le=500)
    cors_origins: list[str] = []
    # The worker serves its job metrics here on 127.0.0.1 (0 turns it off); the API serves /metrics.
    worker_metrics_port: int = 9101
    # Jobs one worker runs at once. Agent runs spend most of their time waiting for the model
    # (a second or more per step), so a worker keeps this many runs in flight.
    worker_max_jobs: int = Field(default=50, ge=1, le=1000)
    # On SIGTERM/SIGINT the worker stops taking jobs and lets running ones finish this long; jobs
    # still running then are cancelled and queued again (they are idempotent).
    worker_shutdown_grace_seconds: float = Field(default=20.0, ge=0, le=3600)
    # The API's /metrics: with a token it needs `Authorization: Bearer <token>`. Without one it is
    # open outside production and off (404) in production unless `metrics_enabled` says otherwise.
    metrics_token: SecretStr | None = None
    metrics_enabled: bool | None = None
    # Addresses (IPs or CIDR networks) of reverse proxies whose X-Forwarded-For / -Proto headers
    # are believed. Empty (the default) trusts none: the client address is the TCP peer.
    trusted_proxies: list[str] = []
    # Largest request body of ordinary routes (JSON); routes that take files declare their own.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    auth: AuthSettings = AuthSettings()
    smtp: SmtpSettings = SmtpSettings()
    webhooks: WebhookSettings = WebhookSettings()
    wa: WaSettings = WaSettings()
    meta: MetaSettings = MetaSettings()
    instagram: InstagramSettings = InstagramSettings()
    ai: AiConfig = AiConfig()

    catalog: CatalogSettings = CatalogSettings()
    orders: OrderSettings = OrderSettings()
    attachments: AttachmentSettings = AttachmentSettings()

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def metrics_open(self) -> bool:
        if self.metrics_enabled is not None:
            return self.metrics_enabled
        return not self.is_production or self.metrics_token is not None

    @property
    def wa_sandbox_enabled(self) -> bool:
        if self.wa.sandbox_enabled is None:
            return not self.is_production
        return self.wa.sandbox_enabled

    @property
    def json_logs(self) -> bool:
        return self.is_production if self.log_json is None else self.log_json


@lru_cache
def get_settings() -> Settings:
    return Settings()
