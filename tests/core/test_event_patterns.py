"""Subscription patterns: exact types, prefix wildcards, '*', and validation."""

from __future__ import annotations

import pytest

from ticaret.core.event_patterns import event_matches, validate_subscription


@pytest.mark.parametrize(
    ("subscriptions", "event_type", "expected"),
    [
        (["wa.message.received"], "wa.message.received", True),
        (["wa.message.received"], "wa.message.sent", False),
        (["wa.message.received"], "wa.message.received.extra", False),
        (["wa.*"], "wa.message.received", True),
        (["wa.*"], "wa.session.status_changed", True),
        (["wa.*"], "wa.label.changed", True),
        (["wa.*"], "wallet.created", False),
        (["wa.*"], "crm.customer.created", False),
        (["wa.message.*"], "wa.message.received", True),
        (["wa.message.*"], "wa.message.deleted", True),
        (["wa.message.*"], "wa.messages.received", False),
        (["wa.message.*"], "wa.chat.updated", False),
        (["wa.message.*"], "wa.message", False),
        (["crm.*"], "crm.customer.created", True),
        (["order.created"], "order.created", True),
        (["order.*"], "order.status_changed", True),
        (["*"], "webhook.test", True),
        (["*"], "anything.at.all", True),
        ([], "wa.message.received", False),
        (["order.created", "wa.message.*"], "wa.message.sent", True),
        (["order.created", "wa.message.*"], "crm.task.created", False),
    ],
)
def test_event_matches(subscriptions: list[str], event_type: str, expected: bool) -> None:
    assert event_matches(subscriptions, event_type) is expected


def test_matches_accepts_tuples() -> None:
    assert event_matches(("crm.customer.*",), "crm.customer.updated")


@pytest.mark.parametrize(
    "pattern",
    [
        "*",
        "wa.*",
        "wa.message.*",
        "wa.message.received",
        "order.created",
        "wa.session.status_changed",
        "crm.identity.linked",
        "ai.analysis.completed",
        "a1.b2",
    ],
)
def test_valid_patterns(pattern: str) -> None:
    validate_subscription(pattern)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "must not be empty"),
        (" wa.*", "spaces"),
        ("wa.message.received ", "spaces"),
        ("wa. message", "spaces"),
        ("Wa.Message.Received", "lowercase"),
        ("WA.*", "lowercase"),
        ("wa*", "only use '\\*' alone or as a last segment"),
        ("*.message", "only use '\\*' alone or as a last segment"),
        ("wa.*.received", "only use '\\*' alone or as a last segment"),
        ("wa.mess*", "only use '\\*' alone or as a last segment"),
        ("**", "only use '\\*' alone or as a last segment"),
        ("wa.**", "only use '\\*' alone or as a last segment"),
        ("wa", "domain.object.verb"),
        ("wa.", "domain.object.verb"),
        (".wa.message", "domain.object.verb"),
        ("wa..message", "domain.object.verb"),
        ("wa.message-received", "domain.object.verb"),
        ("1wa.message", "domain.object.verb"),
        ("wa.message.received|sent", "domain.object.verb"),
        ("a." * 120 + "b", "longer than 200"),
    ],
)
def test_invalid_patterns(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validate_subscription(pattern)
