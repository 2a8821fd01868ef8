"""Development-only secrets, generated once and kept in the data folder (git-ignored)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr

from ticaret.settings import Settings


def load_or_create(data_dir: Path) -> dict[str, str]:
    path = data_dir / "dev-secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    data_dir.mkdir(parents=True, exist_ok=True)
    values = {
        "TICARET_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "TICARET_AUTH__FERNET_KEYS": Fernet.generate_key().decode(),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def dev_meta_app(data_dir: Path) -> dict[str, str]:
    """A stand-in Meta app for development (no Facebook app needed): the API verifies webhooks
    with this secret and `ticaret meta-inject` signs with it. Added to older files on demand."""
    path = data_dir / "dev-secrets.json"
    values = load_or_create(data_dir)
    wanted = {
        "TICARET_META__APP_ID": "ticaret-dev-app",
        "TICARET_META__APP_SECRET": secrets.token_urlsafe(32),
        "TICARET_META__VERIFY_TOKEN": secrets.token_urlsafe(16),
    }
    missing = {k: v for k, v in wanted.items() if k not in values}
    if missing:
        values = {**values, **missing}
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
    return {k: values[k] for k in wanted}


# HS256 with a key shorter than its 256-bit output can be brute-forced offline from one token.
MIN_JWT_SECRET_BYTES = 32


def ensure_secrets(settings: Settings) -> None:
    """Production must configure its secrets; elsewhere fill the gaps from the data folder."""
    jwt_secret = settings.auth.jwt_secret.get_secret_value()
    missing = not jwt_secret or not settings.auth.fernet_keys.get_secret_value()
    if settings.is_production:
        if missing:
            raise RuntimeError(
                "TICARET_AUTH__JWT_SECRET and TICARET_AUTH__FERNET_KEYS must be set in production"
            )
        if len(jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise RuntimeError(
                f"TICARET_AUTH__JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes in "
                'production (python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        return
    if not missing:
        return
    values = load_or_create(Path(settings.data_dir).resolve())
    if not settings.auth.jwt_secret.get_secret_value():
        settings.auth.jwt_secret = SecretStr(values["TICARET_AUTH__JWT_SECRET"])
    if not settings.auth.fernet_keys.get_secret_value():
        settings.auth.fernet_keys = SecretStr(values["TICARET_AUTH__FERNET_KEYS"])
