"""SQL for DM threads and their messages. Reads are scoped by account and asset; the webhook
job writes through the asset it resolved (which carries its account)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.ids import new_id
from ticaret.models import MetaAsset, MetaMessage, MetaThread, SocialMessageStatus

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def threads_page(
    session: AsyncSession,
    account_id: uuid.UUID,
    asset_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    *,
    unread_only: bool = False,
) -> list[MetaThread]:
    activity = func.coalesce(MetaThread.last_message_at, literal(EPOCH))
    stmt = select(MetaThread).where(
        MetaThread.account_id == account_id, MetaThread.asset_id == asset_id
    )
    if unread_only:
        stmt = stmt.where(MetaThread.unread_count > 0)
    if after is not None:
        stmt = stmt.where(tuple_(activity, MetaThread.id) < tuple_(literal(after[0]), after[1]))
    stmt = stmt.order_by(activity.desc(), MetaThread.id.desc()).limit(limit + 1)
    return list(await session.scalars(stmt))


async def thread(
    session: AsyncSession,
    account_id: uuid.UUID,
    asset_id: uuid.UUID,
    thread_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> MetaThread | None:
    stmt = select(MetaThread).where(
        MetaThread.account_id == account_id,
        MetaThread.asset_id == asset_id,
        MetaThread.id == thread_id,
    )
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def thread_for(
    session: AsyncSession, asset: MetaAsset, participant_id: str, **first: Any
) -> tuple[MetaThread, bool]:
    """The asset's thread with this person, created on first contact (then True); locked for
    the caller.

    INSERT .. ON CONFLICT first: two webhook jobs for a new person may run at once.
    """
    created = await session.scalar(
        insert(MetaThread)
        .values(
            id=new_id(),
            account_id=asset.account_id,
            asset_id=asset.id,
            platform=asset.platform,
            participant_id=participant_id,
            unread_count=0,
            **first,
        )
        .on_conflict_do_nothing(constraint="uq_meta_threads_asset_participant")
        .returning(MetaThread.id)
    )
    found = await session.scalar(
        select(MetaThread)
        .where(MetaThread.asset_id == asset.id, MetaThread.participant_id == participant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found, created is not None


async def thread_with(
    session: AsyncSession, asset_id: uuid.UUID, participant_id: str
) -> MetaThread | None:
    """The asset's thread with this person, if there is one (reads and deliveries create none)."""
    return await session.scalar(
        select(MetaThread).where(
            MetaThread.asset_id == asset_id, MetaThread.participant_id == participant_id
        )
    )


async def messages_page(
    session: AsyncSession,
    thread_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[MetaMessage]:
    stmt = select(MetaMessage).where(MetaMessage.thread_id == thread_id)
    if after is not None:
        stmt = stmt.where(
            tuple_(MetaMessage.source_timestamp, MetaMessage.id)
            < tuple_(literal(after[0]), after[1])
        )
    stmt = stmt.order_by(MetaMessage.source_timestamp.desc(), MetaMessage.id.desc())
    return list(await session.scalars(stmt.limit(limit + 1)))


async def message_in_thread(
    session: AsyncSession, thread_id: uuid.UUID, mid: str, *, for_update: bool = False
) -> MetaMessage | None:
    stmt = select(MetaMessage).where(MetaMessage.thread_id == thread_id, MetaMessage.mid == mid)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def message_by_mid(
    session: AsyncSession, asset_id: uuid.UUID, mid: str, *, for_update: bool = False
) -> MetaMessage | None:
    stmt = select(MetaMessage).where(MetaMessage.asset_id == asset_id, MetaMessage.mid == mid)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.limit(1))


async def message_by_id(
    session: AsyncSession, message_id: uuid.UUID, *, for_update: bool = False
) -> MetaMessage | None:
    """By primary key alone: for jobs and webhooks holding an id we wrote ourselves."""
    return await session.get(MetaMessage, message_id, with_for_update=for_update)


async def insert_message(session: AsyncSession, values: dict[str, Any]) -> MetaMessage | None:
    """Insert unless the thread has this mid already (a redelivery); None then."""
    inserted = await session.scalar(
        insert(MetaMessage)
        .values(id=new_id(), version=1, **values)
        .on_conflict_do_nothing(constraint="uq_meta_messages_thread_mid")
        .returning(MetaMessage.id)
    )
    if inserted is None:
        return None
    return await session.get(MetaMessage, inserted)


def add_message(session: AsyncSession, **values: Any) -> MetaMessage:
    message = MetaMessage(**values)
    session.add(message)
    return message


async def unread_incoming(
    session: AsyncSession, thread_id: uuid.UUID, read_at: datetime
) -> list[MetaMessage]:
    """Mark the person's unread messages read (we read them); returns those changed."""
    rows = await session.scalars(
        update(MetaMessage)
        .where(
            MetaMessage.thread_id == thread_id,
            MetaMessage.from_me.is_(False),
            MetaMessage.read_at.is_(None),
        )
        .values(read_at=read_at, version=MetaMessage.version + 1)
        .returning(MetaMessage)
        .execution_options(synchronize_session=False)
    )
    return list(rows)


async def ours_read_up_to(
    session: AsyncSession, thread_id: uuid.UUID, watermark: datetime, read_at: datetime
) -> list[MetaMessage]:
    """The person read every message of ours sent up to `watermark`."""
    rows = await session.scalars(
        update(MetaMessage)
        .where(
            MetaMessage.thread_id == thread_id,
            MetaMessage.from_me.is_(True),
            MetaMessage.source_timestamp <= watermark,
            MetaMessage.status.in_((SocialMessageStatus.sent, SocialMessageStatus.delivered)),
        )
        .values(
            status=SocialMessageStatus.read,
            read_at=read_at,
            version=MetaMessage.version + 1,
        )
        .returning(MetaMessage)
        .execution_options(synchronize_session=False)
    )
    return list(rows)


async def ours_delivered_up_to(
    session: AsyncSession, thread_id: uuid.UUID, watermark: datetime, delivered_at: datetime
) -> list[MetaMessage]:
    rows = await session.scalars(
        update(MetaMessage)
        .where(
            MetaMessage.thread_id == thread_id,
            MetaMessage.from_me.is_(True),
            MetaMessage.source_timestamp <= watermark,
            MetaMessage.status == SocialMessageStatus.sent,
        )
        .values(
            status=SocialMessageStatus.delivered,
            delivered_at=delivered_at,
            version=MetaMessage.version + 1,
        )
        .returning(MetaMessage)
        .execution_options(synchronize_session=False)
    )
    return list(rows)


async def delete_message(session: AsyncSession, message_id: uuid.UUID) -> None:
    await session.execute(delete(MetaMessage).where(MetaMessage.id == message_id))
