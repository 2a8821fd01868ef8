"""Password hashing, access tokens, API secrets and encryption of stored third-party keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import jwt
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from passlib.context import CryptContext

from ticaret.settings import Settings

# argon2id with passlib's defaults; `needs_update` lets parameters be raised later.
_passwords = CryptContext(schemes=["argon2"], deprecated="auto")

JWT_ALGORITHM = "HS256"
API_KEY_PREFIX = "tk_"
API_SECRET_PREFIX = "tks_"  # noqa: S105 - a prefix, not a secret


async def hash_password(password: str) -> str:
    # argon2 is deliberately slow (tens of ms): keep it off the event loop.
    return await anyio.to_thread.run_sync(_passwords.hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        # Still spend the time so unknown emails and wrong passwords look the same.
        await anyio.to_thread.run_sync(_passwords.hash, password)
        return False
    return bool(await anyio.to_thread.run_sync(_passwords.verify, password, password_hash))


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int
    jti: str


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    token_version: int
    issued_at: datetime
    jti: str
    # The login session (refresh-token family) the token belongs to; ending it ends the token.
    session_id: uuid.UUID | None = None


def issue_access_token(
    settings: Settings,
    user_id: uuid.UUID,
    token_version: int,
    session_id: uuid.UUID | None = None,
) -> AccessToken:
    now = datetime.now(UTC)
    ttl = settings.auth.access_token_ttl_seconds
    jti = secrets.token_hex(16)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iss": settings.auth.jwt_issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": jti,
        "typ": "access",
        # Bumped by a password reset: every token issued before it stops working.
        "ver": token_version,
    }
    if session_id is not None:
        claims["sid"] = str(session_id)
    token = jwt.encode(claims, settings.auth.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)
    return AccessToken(token=token, expires_in=ttl, jti=jti)


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    try:
        claims = jwt.decode(
            token,
            settings.auth.jwt_secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],  # pinned: `none` and RS/HS confusion are refused
            issuer=settings.auth.jwt_issuer,
            options={"require": ["exp", "iat", "jti", "sub", "iss"]},
        )
        if claims.get("typ") != "access":
            return None
        sid = claims.get("sid")
        return AccessClaims(
            user_id=uuid.UUID(str(claims["sub"])),
            token_version=int(claims.get("ver", 0)),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
            jti=str(claims["jti"]),
            session_id=uuid.UUID(str(sid)) if sid is not None else None,
        )
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


def issue_scoped_token(
    settings: Settings, subject: dict[str, str], ttl_seconds: int, typ: str
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        **subject,
        "iss": settings.auth.jwt_issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        "jti": secrets.token_hex(8),
        "typ": typ,
    }
    return jwt.encode(claims, settings.auth.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)


def decode_scoped_token(settings: Settings, token: str, typ: str) -> dict[str, Any] | None:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.auth.jwt_secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            issuer=settings.auth.jwt_issuer,
            options={"require": ["exp", "iat", "jti", "iss"]},
        )
    except jwt.PyJWTError:
        return None
    return claims if claims.get("typ") == typ else None


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(18)


def new_api_secret() -> str:
    return API_SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_token(value: str) -> str:
    # Secrets and reset tokens carry >= 256 bits of entropy, so a fast hash is enough
    # (as GitHub and Stripe do for tokens); passwords use argon2id instead.
    return hashlib.sha256(value.encode()).hexdigest()


def token_matches(value: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_token(value), expected_hash)


class SecretBox:
    """Fernet encryption for third-party keys at rest; the first key encrypts, all decrypt."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored secret cannot be decrypted with the configured keys") from exc

    def rotate(self, ciphertext: str) -> str:
        return self._fernet.rotate(ciphertext.encode()).decode()


def secret_box(settings: Settings) -> SecretBox:
    raw = settings.auth.fernet_keys.get_secret_value()
    return SecretBox([k.strip() for k in raw.split(",") if k.strip()])
