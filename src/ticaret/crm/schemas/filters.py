"""The CRM's filters on the WhatsApp chat and message lists (API.md, WhatsApp row 15)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

AssignmentStatus = Literal["assigned", "unassigned"]
IdentityStatus = Literal["matched", "unmatched"]


@dataclass(frozen=True)
class CrmListFilter:
    assigned_user_id: uuid.UUID | None = None
    assigned_group_id: uuid.UUID | None = None
    assignment_status: AssignmentStatus | None = None
    assigned_to_me: bool = False
    assigned_to_my_groups: bool = False
    customer_id: uuid.UUID | None = None
    contact_id: uuid.UUID | None = None
    identity_status: IdentityStatus | None = None

    @property
    def on_assignment(self) -> bool:
        return bool(
            self.assigned_user_id
            or self.assigned_group_id
            or self.assignment_status
            or self.assigned_to_me
            or self.assigned_to_my_groups
        )

    @property
    def on_link(self) -> bool:
        return bool(self.customer_id or self.contact_id or self.identity_status)
