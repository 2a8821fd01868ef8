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


def ensure_secrets(settings: Settings) -> None:
    """Production must configure its secrets; elsewhere fill the gaps from the data folder."""
    missing = not settings.auth.jwt_secret.get_secret_value() or not (
        settings.auth.fernet_keys.get_secret_value()
    )
    if not missing:
        return
    if settings.is_production:
        raise RuntimeError(
            "TICARET_AUTH__JWT_SECRET and TICARET_AUTH__FERNET_KEYS must be set in production"
        )
    values = load_or_create(Path(settings.data_dir).resolve())
    if not settings.auth.jwt_secret.get_secret_value():
        settings.auth.jwt_secret = SecretStr(values["TICARET_AUTH__JWT_SECRET"])
    if not settings.auth.fernet_keys.get_secret_value():
        settings.auth.fernet_keys = SecretStr(values["TICARET_AUTH__FERNET_KEYS"])
