"""The errors of registration, login and password resets, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import BadRequest, Conflict, Unauthorized


class EmailTaken(Conflict):
    code = "email_taken"
    default_message = "An account with this email already exists."


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    default_message = "Email or password is incorrect."


class InvalidPasswordToken(BadRequest):
    code = "invalid_token"
    default_message = "The token is invalid, expired or already used."
