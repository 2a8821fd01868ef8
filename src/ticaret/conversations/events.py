"""Event types of conversations.

`conversation.message.created` is also how an AI agent is asked to answer: the agents domain
consumes it (`ticaret.wiring`) and runs the agent named by `aiAgentId`, so posting a message
never waits for a model.
"""

from __future__ import annotations

from ticaret.conversations.schemas.conversations import ConversationData, ConversationUpdated
from ticaret.conversations.schemas.messages import MessageCreated
from ticaret.core.events import event_type

CONVERSATION_CREATED = event_type(
    "conversation.created",
    "A conversation started: created through the API, or the first message of a WhatsApp "
    "chat, a Messenger or an Instagram thread arrived.",
    ConversationData,
)
CONVERSATION_UPDATED = event_type(
    "conversation.updated",
    "A conversation's status, AI switch (human takeover), assignee, language or agent changed "
    "(`changed` names them).",
    ConversationUpdated,
)
MESSAGE_CREATED = event_type(
    "conversation.message.created",
    "A message was added to a conversation: sent through the API, written by an AI agent, or "
    "mirrored from its channel. `aiAgentId` names the agent asked to answer it.",
    MessageCreated,
)
