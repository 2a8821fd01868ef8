"""What the AI asks of the account's catalog beyond its search: which spellings of a word it has.

A customer's word has several readings ("gömleğiniz": `gomleginiz`, `gomlegi`, `gomlek`); the
catalog search is cheap for a word some product contains as typed and costly for one none
does (it then looks for similar words). So matching asks first which readings occur, in one
round trip, and searches by the first that does.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.core.db import RawQuery
from ticaret.models import Product


async def spellings_in_catalog(
    session: AsyncSession, account_id: uuid.UUID, spellings: Sequence[str]
) -> set[str]:
    """The (folded) spellings some live product of the account contains."""
    unique = list(dict.fromkeys(spellings))
    if not unique:
        return set()
    found = (
        await session.execute(
            select(
                *(
                    exists().where(
                        Product.account_id == account_id,
                        Product.deleted_at.is_(None),
                        Product.search_text.like(func.concat("%", spelling, "%")),
                    )
                    for spelling in unique
                )
            )
        )
    ).one()
    return {spelling for spelling, present in zip(unique, found, strict=True) if present}


async def accounts_with_live_products(
    session: AsyncSession, account_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these accounts have a live product of any status (one round trip for a
    batch; the others' matching asks their catalog nothing)."""
    unique = list(dict.fromkeys(account_ids))
    if not unique:
        return set()
    rows = await _ACCOUNTS_WITH_LIVE_PRODUCTS.fetch(session, account_ids=unique)
    return {row[0] for row in rows}


# One EXISTS per account (its first live product settles it), one statement text for any
# number of accounts: built once, not a SELECT of N EXISTS built for each batch.
_ACCOUNTS_WITH_LIVE_PRODUCTS = RawQuery(
    text(
        """
        SELECT a.id FROM unnest(CAST(:account_ids AS uuid[])) AS a(id)
        WHERE EXISTS (SELECT 1 FROM products p WHERE p.account_id = a.id AND p.deleted_at IS NULL)
        """
    )
)
