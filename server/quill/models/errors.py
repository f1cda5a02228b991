"""Errors raised by model providers; each carries one short line a user can act on."""

from __future__ import annotations


class ModelError(Exception):
    """A model request failed. ``str(error)`` is the short, user-facing line."""

    #: worth trying the same model again after a pause
    retryable: bool = False

    def __init__(self, message: str, *, model: str = "") -> None:
        super().__init__(message)
        self.model = model


class ModelUnavailable(ModelError):
    """The model cannot be used at all (not installed, file missing, bad configuration)."""


class ModelUnreachable(ModelError):
    """Connection refused, DNS failure, or connect timeout."""

    retryable = True


class ModelTimeout(ModelError):
    """No first token (or no further token) within the configured time."""

    retryable = True


class ModelRateLimited(ModelError):
    """HTTP 429; ``retry_after`` is the server's Retry-After in seconds, when given."""

    retryable = True

    def __init__(self, message: str, *, model: str = "", retry_after: float | None = None):
        super().__init__(message, model=model)
        self.retry_after = retry_after


class ModelServerError(ModelError):
    """HTTP 5xx from the endpoint."""

    retryable = True

    def __init__(self, message: str, *, model: str = "", retry_after: float | None = None):
        super().__init__(message, model=model)
        self.retry_after = retry_after


class ModelRequestRejected(ModelError):
    """HTTP 4xx other than 429: the request itself is wrong (model name, key, size)."""


class ModelStreamInterrupted(ModelError):
    """The answer stopped part-way (connection cut, malformed stream)."""


class NoModelAvailable(ModelError):
    """Every model of a feature's route failed or is paused; lists why."""


class ModelCapabilityMissing(ModelRequestRejected):
    """The model cannot do what this request asks (e.g. fill-in-the-middle)."""
