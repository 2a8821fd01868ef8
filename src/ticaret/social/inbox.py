"""The two inbound webhook sources: Facebook Page events and Instagram events.

Each item of a batch is an inbox row (`core.inbox`), keyed by the Page / Instagram account id
and the item's natural id; its job applies it with `service.ingest.apply_item`.
"""

from __future__ import annotations

from ticaret.core.inbox import InboxSource
from ticaret.social.graph.webhooks import SIGNATURE_HEADER
from ticaret.social.service.ingest import apply_facebook_item, apply_instagram_item

PAGE_EVENTS = InboxSource(
    "meta",
    handler=apply_facebook_item,
    job_name="process_meta_inbox_item",
    headers={SIGNATURE_HEADER},
)
INSTAGRAM_EVENTS = InboxSource(
    "instagram",
    handler=apply_instagram_item,
    job_name="process_instagram_inbox_item",
    headers={SIGNATURE_HEADER},
)


def source_for(platform: str) -> InboxSource:
    return PAGE_EVENTS if platform == "facebook" else INSTAGRAM_EVENTS
