"""Domain errors: what went wrong, in words and as a stable code, never as an HTTP status.

Every error has a `kind` (what sort of failure: the API layer maps kinds to HTTP statuses in
`api/errors.py`), a `code` (stable, dotted, e.g. `knowledge.too_large`: the UI translates by it)
and `params` (the values the translated message needs). `str(error)` is readable English, sent as
`detail` for clients that do not translate.
"""

from typing import Any, ClassVar, Literal

ErrorKind = Literal["invalid", "not_found", "conflict", "too_large", "unsupported", "upstream"]


class DomainError(Exception):
    kind: ClassVar[ErrorKind] = "invalid"
    default_code: ClassVar[str] = "invalid"

    def __init__(self, detail: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.params: dict[str, Any] = params


class NotFoundError(DomainError):
    kind = "not_found"
    default_code = "not_found"

    def __init__(self, what: str, item_id: str) -> None:
        super().__init__(f"{what} {item_id!r} not found", what=what, id=item_id)


class ConflictError(DomainError):
    kind = "conflict"
    default_code = "conflict"


class InvalidError(DomainError):
    kind = "invalid"
    default_code = "invalid"


class TooLargeError(DomainError):
    kind = "too_large"
    default_code = "too_large"


class UnsupportedError(DomainError):
    kind = "unsupported"
    default_code = "unsupported"


class UpstreamError(DomainError):
    """A service we depend on (a provider, an embedding API) failed, not the request."""

    kind = "upstream"
    default_code = "upstream"


class StartupFailure(DomainError):
    """The sidecar cannot start (e.g. its database was written by a newer app). Never an HTTP
    answer: `main` prints it on the FAILED line (`core/contract.py`) and the shell shows it."""

    kind = "conflict"
    default_code = "startup.failed"
