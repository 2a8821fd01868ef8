"""What the model is told (the system prompt), and the handoff rules read without a model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ticaret.agents.service.conversations import ConversationView
from ticaret.models import AiAgent
from ticaret.models.agents import AgentTool

# What customers write when they want a person (folded: lower case, Turkish letters plain).
HUMAN_REQUESTS = (
    "temsilci",
    "canli destek",
    "yetkili",
    "insanla gorus",
    "gercek bir kisi",
    "musteri hizmetleri",
    "operator",
    "human",
    "real person",
    "representative",
    "talk to a person",
    "speak to someone",
)

_FOLD = str.maketrans("ıİşŞğĞçÇöÖüÜâÂîÎûÛ", "iissggccoouuaaiiuu")

_HANDOFF_NOTES = {
    "tr": "Sizi ekibimizden bir temsilciye aktarıyorum; en kısa sürede size dönecekler.",
    "en": "I'm handing you over to our team; a person will answer you shortly.",
    "ar": "سأحوّلك إلى أحد أعضاء فريقنا، وسيرد عليك قريبًا.",
}


def fold(text: str) -> str:
    return text.translate(_FOLD).casefold()


def handoff_note(language: str) -> str:
    return _HANDOFF_NOTES.get(language.split("-")[0], _HANDOFF_NOTES["en"])


def handoff_match(rules: Mapping[str, Any], history: Sequence[Mapping[str, Any]]) -> str | None:
    """The rule the customer's last message matches (a keyword, or asking for a person)."""
    last = next((m for m in reversed(history) if m.get("role") == "user"), None)
    if last is None or not isinstance(last.get("content"), str):
        return None
    text = fold(str(last["content"]))
    for keyword in rules.get("keywords", []):
        if fold(str(keyword)) in text:
            return f"keyword {keyword!r}"
    if rules.get("onHumanRequest", True):
        for phrase in HUMAN_REQUESTS:
            if phrase in text:
                return "the customer asked for a person"
    return None


def system_prompt(agent: AiAgent, conversation: ConversationView, language: str) -> str:
    lines = [
        f"You are {agent.name}, an assistant answering a shop's customers in a chat.",
        f"Answer in the language with code {language!r} unless the customer writes in another.",
        "Keep answers short and friendly. Never invent products, prices, stock or orders: use "
        "the functions to look them up.",
    ]
    tools = set(agent.tools)
    if AgentTool.create_order_draft in tools:
        lines.append(
            "Create an order draft only when the customer clearly wants to order and named the "
            "products and quantities; a person of the shop confirms it."
        )
    if AgentTool.handoff_to_human in tools:
        lines.append("Call handoff_to_human when the customer asks for a person.")
        if agent.handoff_rules.get("lowConfidence", True):
            lines.append(
                "Also call handoff_to_human when you are not confident you can answer "
                "correctly, instead of guessing."
            )
    if conversation.customer_title:
        lines.append(f"The customer is {conversation.customer_title}.")
    if agent.instructions.strip():
        lines.append("")
        lines.append("The shop's instructions:")
        lines.append(agent.instructions.strip())
    return "\n".join(lines)
