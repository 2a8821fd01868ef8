"""People and groups a session has seen."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, Uuid, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.core.ids import new_id
from ticaret.models import WaContact
from ticaret.wa.repository import contains_pattern, rows_json


async def contact(session: AsyncSession, session_id: uuid.UUID, jid: str) -> WaContact | None:
    """By JID or by LID."""
    return await session.scalar(
        select(WaContact).where(
            WaContact.session_id == session_id, or_(WaContact.jid == jid, WaContact.lid == jid)
        )
    )


async def contacts_page(
    session: AsyncSession,
    session_id: uuid.UUID,
    *,
    after: uuid.UUID | None,
    limit: int,
    q: str | None,
    is_group: bool | None,
) -> list[WaContact]:
    stmt = select(WaContact).where(WaContact.session_id == session_id)
    if q:
        pattern = contains_pattern(q)
        stmt = stmt.where(
            or_(
                WaContact.name.ilike(pattern),
                WaContact.push_name.ilike(pattern),
                WaContact.phone.ilike(pattern),
                WaContact.jid.ilike(pattern),
            )
        )
    if is_group is not None:
        stmt = stmt.where(WaContact.is_group.is_(is_group))
    if after is not None:
        stmt = stmt.where(WaContact.id < after)
    return list(await session.scalars(stmt.order_by(WaContact.id.desc()).limit(limit + 1)))


async def record_contact(
    session: AsyncSession,
    session_id: uuid.UUID,
    jid: str,
    *,
    lid: str | None,
    phone: str | None,
    name: str | None,
    push_name: str | None,
    is_group: bool,
    picture: str | None,
) -> None:
    """Create the contact or fill in what we learned; known values are not blanked."""
    stmt = insert(WaContact).values(
        id=new_id(),
        session_id=session_id,
        jid=jid,
        lid=lid,
        phone=phone,
        name=name,
        push_name=push_name,
        is_group=is_group,
        profile_pic_url=picture,
    )
    excluded = stmt.excluded
    changes = {
        "lid": func.coalesce(excluded.lid, WaContact.lid),
        "phone": func.coalesce(excluded.phone, WaContact.phone),
        "name": func.coalesce(excluded.name, WaContact.name),
        "push_name": func.coalesce(excluded.push_name, WaContact.push_name),
        "profile_pic_url": func.coalesce(excluded.profile_pic_url, WaContact.profile_pic_url),
    }
    differs = or_(*(getattr(WaContact, k).is_distinct_from(v) for k, v in changes.items()))
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_wa_contacts_session_jid",
            set_={**changes, "updated_at": func.now()},
            where=differs,
        )
    )


_CONTACT_FIELDS = ("lid", "phone", "name", "push_name", "profile_pic_url")
# `record_contact` for many people at once, compiled once: the rows come as one JSON array.
_RECORD_CONTACTS = RawQuery(
    text(
        """
    INSERT INTO wa_contacts AS t (id, session_id, jid, is_group, lid, phone, name, push_name,
      profile_pic_url)
    SELECT b.id, :session_id, b.jid, b.is_group, b.lid, b.phone, b.name, b.push_name,
      b.profile_pic_url
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS b(
      id uuid, jid varchar, is_group boolean, lid varchar, phone varchar, name varchar,
      push_name varchar, profile_pic_url text)
    ORDER BY b.jid
    ON CONFLICT ON CONSTRAINT uq_wa_contacts_session_jid DO UPDATE SET
      lid = COALESCE(EXCLUDED.lid, t.lid),
      phone = COALESCE(EXCLUDED.phone, t.phone),
      name = COALESCE(EXCLUDED.name, t.name),
      push_name = COALESCE(EXCLUDED.push_name, t.push_name),
      profile_pic_url = COALESCE(EXCLUDED.profile_pic_url, t.profile_pic_url),
      updated_at = now()
    WHERE t.lid IS DISTINCT FROM COALESCE(EXCLUDED.lid, t.lid)
      OR t.phone IS DISTINCT FROM COALESCE(EXCLUDED.phone, t.phone)
      OR t.name IS DISTINCT FROM COALESCE(EXCLUDED.name, t.name)
      OR t.push_name IS DISTINCT FROM COALESCE(EXCLUDED.push_name, t.push_name)
      OR t.profile_pic_url IS DISTINCT FROM COALESCE(EXCLUDED.profile_pic_url, t.profile_pic_url)
    """
    ).bindparams(bindparam("rows", type_=Text), bindparam("session_id", type_=Uuid))
)


async def record_contacts(
    session: AsyncSession, session_id: uuid.UUID, contacts: Sequence[dict[str, Any]]
) -> None:
    """`record_contact` for many people in one multi-row upsert (known values are not
    blanked). Each dict has `jid`, `is_group` and the fields of `_CONTACT_FIELDS`; no JID
    twice (an upsert cannot change one row twice). Rows go in JID order, so two writers lock
    them in the same order."""
    if not contacts:
        return
    rows = [
        {
            "id": str(new_id()),
            "jid": contact["jid"],
            "is_group": contact["is_group"],
            **{name: contact.get(name) for name in _CONTACT_FIELDS},
        }
        for contact in contacts
    ]
    await _RECORD_CONTACTS.execute(session, rows=rows_json(rows), session_id=session_id)
