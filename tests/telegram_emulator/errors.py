"""Telegram's error envelope and the descriptions the emulator answers with."""

from __future__ import annotations

import math
from typing import Any

CHAT_NOT_FOUND = "chat not found"
CHAT_ID_EMPTY = "chat_id is empty"
BOT_BLOCKED = "bot was blocked by the user"
TEXT_EMPTY = "message text is empty"
TEXT_TOO_LONG = "message is too long"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "message to edit not found"
DELETE_NOT_FOUND = "message to delete not found"
REPLY_NOT_FOUND = "message to be replied not found"
CANT_EDIT = "message can't be edited"
NO_TEXT_TO_EDIT = "there is no text in the message to edit"
NO_DOCUMENT = "there is no document in the request"
FILE_EMPTY = "file must be non-empty"
CAPTION_TOO_LONG = "message caption is too long"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
BUTTON_DATA_INVALID = "BUTTON_DATA_INVALID"
WEBHOOK_ACTIVE = "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
OTHER_GET_UPDATES = "terminated by other getUpdates request; make sure that only one bot instance is running"


class ApiError(Exception):
    """A Bot API failure; the HTTP status always equals error_code, as with Telegram."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


class ParseEntitiesError(Exception):
    """Raised by the text parsers; becomes "can't parse entities: <message>"."""


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


def conflict(detail: str) -> ApiError:
    return ApiError(409, f"Conflict: {detail}")


def request_entity_too_large() -> ApiError:
    """What api.telegram.org answers for an upload over its 50 MB limit."""
    return ApiError(413, "Request Entity Too Large")


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def seconds_value(seconds: float) -> int | float:
    """An int when whole (what Telegram always sends), else a float rounded to the millisecond."""
    if float(seconds).is_integer():
        return int(seconds)
    return round(seconds, 3)


def too_many_requests(retry_after: float) -> ApiError:
    value = seconds_value(retry_after)
    return ApiError(429, f"Too Many Requests: retry after {value}", {"retry_after": value})


def scaled_retry_after(wait_emulated: float, time_scale: float) -> int | float:
    """Telegram rounds the wait up to whole seconds; the emulator then divides by time_scale."""
    whole = max(1, math.ceil(wait_emulated - 1e-9))
    return seconds_value(whole / time_scale)
