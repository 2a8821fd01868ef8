"""The errors of AI agents and their runs, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import NotFound, ValidationFailed


class AgentNotFound(NotFound):
    code = "agent_not_found"
    default_message = "AI agent not found."


class AgentRunNotFound(NotFound):
    code = "agent_run_not_found"
    default_message = "Agent run not found."


class HandoffGroupNotFound(NotFound):
    code = "handoff_group_not_found"
    default_message = "The handoff group is not a CRM group of this account."


class AgentChannelNotFound(NotFound):
    code = "agent_channel_not_found"
    default_message = "The agent's channel names no inbox of this account."


class TestConversationNotFound(NotFound):
    code = "test_conversation_not_found"
    default_message = "No test conversation of this agent has this id."


class AgentModelRequired(ValidationFailed):
    code = "agent_model_required"
    default_message = "Set a model on the agent or in the AI settings."


class AgentProviderNotConfigured(ValidationFailed):
    code = "agent_provider_not_configured"
    default_message = (
        "Agents talk to an LLM: set an API key (OpenAI) or a base URL (an OpenAI-compatible "
        "endpoint) in the AI settings first."
    )
