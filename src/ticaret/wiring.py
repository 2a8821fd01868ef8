"""What the API and the worker must agree on, in one place: every domain's jobs, inbox sources,
event types and the consumers of the outbox.

Both `create_app()` and the worker call `load()`. Importing a domain's `tasks` module declares
its jobs (`core.jobs.job`) and sweepers; importing its `events` module declares its event types;
an inbox source declares its processing job. The API needs the same registry as the worker:
relaying an event queues the consumers registered here, so an event emitted by a request is
handed to them at once, not a sweep later.

A new domain adds its `tasks` and `events` imports below; a new outbox consumer (AI analysis,
CRM auto-link, ...) adds one `register_event_consumer` line naming the event types it wants.
"""

from __future__ import annotations

from ticaret.accounts import events as accounts_events
from ticaret.agents import events as agent_events
from ticaret.agents import tasks as agent_tasks
from ticaret.agents.repository import agents as agent_repository
from ticaret.ai import events as ai_events
from ticaret.ai import tasks as ai_tasks
from ticaret.catalog import events as catalog_events
from ticaret.catalog import tasks as catalog_tasks
from ticaret.conversations import events as conversation_events
from ticaret.conversations import tasks as conversation_tasks
from ticaret.conversations.service.agents import register_agent_names
from ticaret.core import events as core_events
from ticaret.core import idempotency as core_idempotency
from ticaret.core import inbox as core_inbox
from ticaret.core.events import register_batch_consumer, register_event_consumer
from ticaret.crm import events as crm_events
from ticaret.crm import tasks as crm_tasks
from ticaret.notifications import tasks as notification_tasks
from ticaret.orders import events as order_events
from ticaret.orders import timeline as order_timeline
from ticaret.social import events as social_events
from ticaret.social import inbox as social_inbox
from ticaret.social import tasks as social_tasks
from ticaret.wa import events as wa_events
from ticaret.wa import inbox as wa_inbox
from ticaret.wa import tasks as wa_tasks
from ticaret.webhooks import events as webhook_events
from ticaret.webhooks import tasks as webhook_tasks

# Imported for what importing them declares (jobs, sweepers, sources, event types).
DECLARING_MODULES = (
    core_events,
    core_idempotency,
    core_inbox,
    accounts_events,
    catalog_events,
    catalog_tasks,
    order_events,
    order_timeline,
    notification_tasks,
    webhook_events,
    webhook_tasks,
    wa_events,
    wa_inbox,
    wa_tasks,
    crm_events,
    crm_tasks,
    social_events,
    social_inbox,
    social_tasks,
    ai_events,
    ai_tasks,
    conversation_events,
    agent_events,
    agent_tasks,
    conversation_tasks,
)


def load() -> None:
    # Conversations name agents (WhatTalk's `assistant_name`, a send's `ai.agentId` checked
    # against the account's agents) through this lookup, not by importing the agents domain.
    register_agent_names(agent_repository.agent_names)
    # A customer's message that asks for an agent (or reaches an inbox where one answers on
    # its own) starts the agent's run.
    register_batch_consumer(
        agent_tasks.start_agent_runs_of_messages, types=["conversation.message.created"]
    )
    # Webhook subscriptions can name any type, so fan-out looks at every event; one job per
    # commit, and none for accounts without a webhook.
    register_batch_consumer(
        webhook_tasks.fan_out_events,
        types=["*"],
        accounts=webhook_tasks.accounts_with_webhooks,
    )
    # A chat's person is linked to a customer by phone (or to the customer their other JID is
    # mapped to) in each account that sees the session; the ingest path stays as fast as it was.
    register_batch_consumer(
        crm_tasks.link_chats,
        types=["wa.message.received", "wa.message.sent"],
        accounts=crm_tasks.accounts_with_customers,
    )
    # Every customer message (text or image) of an account with analysis on gets analysed.
    register_batch_consumer(ai_tasks.analyse_received_messages, types=["wa.message.received"])
    # A new Page or Instagram thread's person follows the inbox link of the Page / account
    # (once per person: the per-message ingest path gains no job).
    register_event_consumer(
        crm_tasks.link_thread, types=["meta.thread.created", "instagram.thread.created"]
    )
    # Every WhatsApp chat, Messenger and Instagram thread is a conversation from its first
    # message on; its messages are mirrored into it (once each, however often delivered).
    register_batch_consumer(
        conversation_tasks.mirror_wa_messages, types=list(conversation_tasks.WA_MESSAGE_EVENTS)
    )
    register_batch_consumer(
        conversation_tasks.mirror_social_messages,
        types=list(conversation_tasks.SOCIAL_MESSAGE_EVENTS),
    )
