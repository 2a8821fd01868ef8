"""The errors of the live console, each with its fixed code."""

from __future__ import annotations

from ticaret.core.errors import BadRequest, Unauthorized


class InvalidStreamToken(Unauthorized):
    code = "invalid_stream_token"
    default_message = "The stream token is invalid or expired; request a new one."


class InvalidAccountHeader(BadRequest):
    code = "invalid_account_id"
    default_message = "x-account-id must be an account id."
