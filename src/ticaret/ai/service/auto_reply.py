"""Automatic replies (`autoReply`): the suggested reply of a confident analysis, sent to the
customer through the ordinary WhatsApp send path, as the AI.

Only what is safe to answer without a person: a greeting, or a stock, price or product question
about one clearly matched product. Orders (they need the operator's approval) and complaints
(they need a person) never get one, nor an old message the chat has moved on from, nor an
analysis an operator asked for again.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ticaret.ai.service.results import Findings
from ticaret.core.auth import AccountContext, Principal
from ticaret.core.events import Actor
from ticaret.models import (
    AccountAiSettings,
    AiAnalysis,
    AnalysisTrigger,
    Intent,
    MatchStatus,
    MessageAction,
    Role,
    WaMessage,
    WaSession,
)
from ticaret.wa.repository import messages as message_repository
from ticaret.wa.schemas import SendText
from ticaret.wa.service import messages as wa_messages
from ticaret.wa.service.access import WaContext
from ticaret.wa.service.actions import RequestMeta

AI_SENDER = Actor("ai", None)
# Below this the analysis is not sure enough to speak for the shop.
MIN_CONFIDENCE = 0.6
_ANSWERABLE = (
    Intent.stock_question,
    Intent.price_question,
    Intent.product_inquiry,
)


def _answerable(row: AiAnalysis, findings: Findings) -> bool:
    intent = findings.understanding.intent
    if row.trigger != AnalysisTrigger.auto or not findings.suggested_reply:
        return False
    if intent is Intent.greeting:
        return True
    return (
        intent in _ANSWERABLE
        and findings.matching.status is MatchStatus.high_confidence
        and findings.confidence >= MIN_CONFIDENCE
    )


async def _latest_in_chat(session: AsyncSession, row: AiAnalysis, message: WaMessage) -> bool:
    newest = await message_repository.messages_page(
        session,
        row.session_id,
        row.account_id,
        message.remote_jid,
        after=None,
        limit=1,
        q=None,
        message_type=None,
        labels=None,
    )
    return bool(newest) and newest[0].id == message.id


async def send_if_enabled(
    session: AsyncSession,
    row: AiAnalysis,
    wa: WaSession,
    message: WaMessage,
    settings_row: AccountAiSettings | None,
    findings: Findings,
) -> None:
    if settings_row is None or not settings_row.auto_reply or not _answerable(row, findings):
        return
    if not await _latest_in_chat(session, row, message):
        return
    ctx = AccountContext(Principal.acting_as(AI_SENDER), row.account_id, Role.agent)
    sent = await wa_messages.request_action(
        session,
        WaContext(ctx, wa),
        message.remote_jid,
        SendText(action=MessageAction.send_text, text=str(findings.suggested_reply)),
        RequestMeta(ip=None, user_agent="ticaret-ai"),
    )
    row.result = {
        **row.result,
        "autoReply": {
            "operationId": str(sent.operation.id),
            "messageId": sent.message.message_id if sent.message is not None else None,
        },
    }
