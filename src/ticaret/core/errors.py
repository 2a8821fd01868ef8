"""The AppError hierarchy and the handlers that turn every failure into the error envelope."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("ticaret.errors")


class AppError(Exception):
    """A failure the client can act on. Domains subclass it once per case, with a fixed `code`
    (`wa/errors.py`: `SessionNotFound(NotFound)` is `session_not_found`), so a code is never
    spelled at a raise site; `code=` is for core's own few cases."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    default_message: ClassVar[str] = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        self.headers = headers
        self.error_code = code or self.code
        super().__init__(self.message)


class BadRequest(AppError):
    pass


class InvalidCursor(BadRequest):
    code = "invalid_cursor"
    default_message = "The cursor is not valid."


class AccountRequired(AppError):
    code = "account_required"
    default_message = "Send the x-account-id header: this user belongs to several accounts."


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"
    default_message = "Missing or invalid credentials."


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    default_message = "You are not allowed to do this."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class VersionConflict(Conflict):
    code = "version_conflict"
    default_message = "The entity was changed by someone else; reload it and retry."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"
    default_message = "Unsupported media type."


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"
    default_message = "The request is invalid."


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"
    default_message = "Too many requests."


class UpstreamUnavailable(AppError):
    status_code = 502
    code = "upstream_unavailable"
    default_message = "An upstream provider did not answer."


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"
    default_message = "The service is temporarily unavailable."


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"status": False, "error": {"code": code, "message": message, "details": details or {}}}


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


# character_not_in_repertoire (NUL in text), untranslatable_character (\u0000 in JSONB).
_BAD_TEXT_SQLSTATES = frozenset({"22021", "22P05"})


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:] if len(parts) > 1 else parts
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.error_code, exc.message, exc.details),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"path": _field_path(tuple(err.get("loc", ()))), "message": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        # A body that is not JSON at all is a 400, not a field-level 422.
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            return JSONResponse(
                error_body(
                    "invalid_json", "The request body is not valid JSON.", {"fields": fields}
                ),
                status_code=400,
            )
        return JSONResponse(
            error_body("validation_error", "The request is invalid.", {"fields": fields}),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # Text PostgreSQL cannot store (a NUL byte in a path, query or JSON string) is bad
        # input, not our failure; every other database error is.
        if getattr(exc.orig, "sqlstate", None) in _BAD_TEXT_SQLSTATES:
            return JSONResponse(
                error_body("invalid_characters", "The request contains a NUL character."),
                status_code=400,
            )
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "Something went wrong on our side."), status_code=500
        )
