"""Phone numbers and WhatsApp JIDs to one form: E.164 (`+905551112233`).

`+90 555 111 22 33`, `0555 111 22 33`, `5551112233` (read in the account's default region,
TR when unset) and the JID `905551112233@s.whatsapp.net` are the same person. The CRM keeps
phones this way; every domain that finds a customer by phone (orders, Meta, conversations)
normalizes with these first.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "TR"
SUPPORTED_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)
PHONE_SERVERS = ("s.whatsapp.net", "c.us")
PHONE_JID_SERVER = "s.whatsapp.net"

# What a typed phone number (whole or partial) may contain.
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-().]+$")


def region_or_default(region: str | None) -> str:
    return region if region in SUPPORTED_REGIONS else DEFAULT_REGION


def _user_of(jid: str) -> str:
    # `905551112233:12@s.whatsapp.net` (a device) is the same person.
    return jid.split("@", 1)[0].split(":", 1)[0]


def server_of(jid: str) -> str | None:
    return jid.rsplit("@", 1)[1] if "@" in jid else None


def normalize_phone(raw: str, region: str | None = None) -> str | None:
    """E.164, or None when `raw` is no possible phone number. A phone JID works too."""
    value = raw.strip()
    if "@" in value:
        if server_of(value) not in PHONE_SERVERS:
            return None
        digits = _user_of(value)
        if not digits.isdigit():
            return None
        value = "+" + digits
    if not value or len(value) > 40:
        return None
    candidates = [value]
    # Digits with a country code but no "+" (how JIDs and many exports write them).
    if value.isdigit() and not value.startswith("0"):
        candidates.append("+" + value)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region_or_default(region))
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def phone_jid(e164: str) -> str:
    """The WhatsApp JID of an E.164 number."""
    return f"{e164.lstrip('+')}@{PHONE_JID_SERVER}"


@lru_cache(maxsize=65_536)
def normalize_jid(jid: str) -> str:
    """One spelling per WhatsApp address: no device suffix, `c.us` as `s.whatsapp.net`."""
    value = jid.strip().lower()
    server = server_of(value)
    if server is None:
        return value
    user = _user_of(value)
    if server in PHONE_SERVERS:
        server = PHONE_JID_SERVER
    return f"{user}@{server}"


def is_lid(jid: str | None) -> bool:
    return bool(jid) and server_of(jid or "") == "lid"


def is_group_jid(jid: str | None) -> bool:
    return bool(jid) and server_of(jid or "") == "g.us"


def phone_of_jid(jid: str | None) -> str | None:
    """E.164 of a phone JID; None for `@lid`, groups and anything else."""
    if not jid or server_of(jid) not in PHONE_SERVERS:
        return None
    return normalize_phone(jid)


def search_digits(query: str) -> str | None:
    """The digits to look for when a search looks like a phone number (whole or partial):
    `0555 111 22 33` -> `5551112233`, `555 11` -> `55511`, `+90 555` -> `90555`. Leading zeros
    (trunk or international prefixes) are dropped so the rest matches inside E.164 digits."""
    value = query.strip()
    if "@" in value:
        value = _user_of(value)
    if not _PHONE_LIKE.match(value):
        return None
    digits = "".join(ch for ch in value if ch.isdigit()).lstrip("0")
    return digits if len(digits) >= 3 else None
