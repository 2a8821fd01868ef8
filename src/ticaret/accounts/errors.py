"""The errors of accounts, members and API accounts, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class AccountNotFound(NotFound):
    default_message = "Account not found."


class MemberNotFound(NotFound):
    default_message = "User not found in this account."


class ApiAccountNotFound(NotFound):
    default_message = "API account not found."


class OwnerRequired(Forbidden):
    code = "owner_required"
    default_message = "Only an owner can grant or remove the owner role."


class RoleTooHigh(Forbidden):
    code = "role_too_high"
    default_message = "This is above your own role."


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = "This user is already a member of the account."


class LastOwner(Conflict):
    code = "last_owner"
    default_message = "An account must keep at least one owner."


class ApiAccountRevoked(Conflict):
    code = "api_account_revoked"
    default_message = "A revoked API account cannot be rotated."


class UnknownPhoneRegion(ValidationFailed):
    code = "invalid_phone_region"
    default_message = "Not a region phone numbers know (an ISO 3166 code such as TR or DE)."
