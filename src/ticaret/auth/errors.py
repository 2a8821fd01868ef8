"""The errors of registration, login and password resets, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized


class EmailTaken(Conflict):
    code = "email_taken"
    default_message = "An account with this email already exists."


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    default_message = "Email or password is incorrect."


class InvalidPasswordToken(BadRequest):
    code = "invalid_token"
    default_message = "The token is invalid, expired or already used."


class InvalidRefreshToken(Unauthorized):
    code = "invalid_refresh_token"
    default_message = "The refresh token is invalid, expired, or its session has ended."


class RefreshTokenReused(Unauthorized):
    """Answered (not raised) by the route: the session's revocation must be committed."""

    code = "refresh_token_reused"
    default_message = (
        "This refresh token was already used; the session has been ended. Log in again."
    )


class InvitationNotFound(NotFound):
    default_message = "Invitation not found."


class EmailUnverified(Forbidden):
    code = "email_unverified"
    default_message = (
        "Confirm your email address first (the link mailed at registration, or a password "
        "reset), then accept the invitation."
    )
