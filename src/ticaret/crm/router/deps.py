"""Path and query parameters several CRM routes share."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query

from ticaret.crm.schemas.filters import AssignmentStatus, CrmListFilter, IdentityStatus

CustomerId = Annotated[uuid.UUID, Path(alias="customerId")]
ContactId = Annotated[uuid.UUID, Path(alias="contactId")]
GroupId = Annotated[uuid.UUID, Path(alias="groupId")]
UserId = Annotated[uuid.UUID, Path(alias="userId")]
MappingId = Annotated[uuid.UUID, Path(alias="mappingId")]
NoteId = Annotated[uuid.UUID, Path(alias="noteId")]
CommentId = Annotated[uuid.UUID, Path(alias="commentId")]
TaskId = Annotated[uuid.UUID, Path(alias="taskId")]
ItemId = Annotated[uuid.UUID, Path(alias="itemId")]
SearchQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Search text: case, accents and Turkish letters (ı/i/İ, ş/s, ç/c, ğ/g, "
        "ö/o, ü/u) are ignored; a phone number matches in any format, whole or partial.",
    ),
]


async def crm_list_filter(
    assigned_user_id: Annotated[
        uuid.UUID | None, Query(alias="assignedUserId", description="Assigned to this user")
    ] = None,
    assigned_group_id: Annotated[
        uuid.UUID | None, Query(alias="assignedGroupId", description="Assigned to this group")
    ] = None,
    assignment_status: Annotated[AssignmentStatus | None, Query(alias="assignmentStatus")] = None,
    assigned_to_me: Annotated[bool, Query(alias="assignedToMe")] = False,
    assigned_to_my_groups: Annotated[
        bool, Query(alias="assignedToMyGroups", description="Assigned to a group I am in")
    ] = False,
    customer_id: Annotated[
        uuid.UUID | None, Query(alias="customerId", description="Linked to this customer")
    ] = None,
    contact_id: Annotated[
        uuid.UUID | None, Query(alias="contactId", description="Linked to this contact")
    ] = None,
    identity_status: Annotated[
        IdentityStatus | None,
        Query(alias="crmIdentityStatus", description="matched: linked to a customer"),
    ] = None,
) -> CrmListFilter:
    return CrmListFilter(
        assigned_user_id=assigned_user_id,
        assigned_group_id=assigned_group_id,
        assignment_status=assignment_status,
        assigned_to_me=assigned_to_me,
        assigned_to_my_groups=assigned_to_my_groups,
        customer_id=customer_id,
        contact_id=contact_id,
        identity_status=identity_status,
    )


# The CRM's filters of the WhatsApp lists; a message without its own assignment follows its
# chat's, a message in a group belongs to its sender's customer when the sender is mapped.
CrmFilters = Annotated[CrmListFilter, Depends(crm_list_filter)]
