"""Interaction error conditions: one class, one `code`, one sentence each (docs/errors.md).

A missing movie is the catalog's `MovieNotFound` (cinema.catalog.errors), not redeclared here.
"""

from __future__ import annotations

from cinema.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class CommentNotFound(NotFound):
    code = "comment_not_found"
    default_detail = "The comment does not exist."


class NotificationNotFound(NotFound):
    """Also another user's notification: its existence is not revealed (docs/api.md, "Conventions")."""

    code = "notification_not_found"
    default_detail = "The notification does not exist."


class NotCommentAuthor(PermissionDenied):
    code = "not_comment_author"
    default_detail = "Only the comment's author or a moderator can delete it."


class InvalidText(ValidationFailed):
    code = "invalid_text"
    default_detail = "A comment needs 1 to 5000 characters of text."


class InvalidParent(ValidationFailed):
    """A reply whose `parent_id` is a comment of another movie."""

    code = "invalid_parent"
    default_detail = "The parent comment belongs to another movie; reply under that movie."


class InvalidScore(ValidationFailed):
    code = "invalid_score"
    default_detail = "The score must be an integer from 1 to 10."


class ConcurrentUpdate(Conflict):
    """A reaction or rating changed by concurrent requests more often than the retries allow."""

    code = "concurrent_update"
    default_detail = "The value changed concurrently; try again."
