"""LLM adapters, shaped like `wa/gateways/`: the interface (`base`), the OpenAI-compatible
adapter, structured output on top of any adapter (`structured`), and the factory that builds
one from an account's stored settings."""

from ticaret.ai.providers.base import (
    ChatMessage,
    ChatRequest,
    ChatResult,
    LlmProvider,
    ProviderConfig,
    ProviderError,
    ResponseFormat,
    Usage,
)

__all__ = [
    "ChatMessage",
    "ChatRequest",
    "ChatResult",
    "LlmProvider",
    "ProviderConfig",
    "ProviderError",
    "ResponseFormat",
    "Usage",
]
