"""Domain and provider errors as HTTP responses: the one place that knows the status codes.

Every error body is an `ErrorBody`: `{"detail": "<readable English>", "code": "<stable.code>",
"params": {…}}`; the UI translates by `code` and falls back to `detail`. The schema publishes it,
and every route declares the statuses it can answer with it (`error_responses`). Request validation
(422) uses it too (`code: "request.invalid"`, each problem in `params.errors` with its field and a
coded reason, `api/validation_codes.py`); other HTTP errors (an
unknown route: 404, a wrong method: 405, a body that is not JSON: 400) get the code `http.<status>`;
a database locked by another writer past the busy timeout is a 503 `storage.busy` with Retry-After;
a bug is a 500 with the code `internal`, its traceback in the log, never in the answer.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from sage_sidecar.api.validation_codes import field_name, field_problem
from sage_sidecar.core.errors import DomainError, ErrorKind
from sage_sidecar.providers.base import ProviderError
from sage_sidecar.storage.locked import (
    DRIVER_ERRORS,
    is_database_locked,
    release_leaked_connections,
)

log = logging.getLogger(__name__)

STATUS_BY_KIND: dict[ErrorKind, int] = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "unsupported": 415,
    "upstream": 502,  # a service we called failed, not the request
}


class ErrorBody(BaseModel):
    """The body of every error response (HTTP 4xx and 5xx)."""

    detail: str = Field(description="Readable English, for clients that do not translate `code`")
    code: str = Field(
        description="Stable and dotted (`not_found`, `file.too_large`): translate by it"
    )
    params: dict[str, Any] = Field(description="The values a translation of `code` names")
    kind: str | None = Field(
        default=None, description="Provider errors only: `code` without `provider.`"
    )


STATUS_MEANING = {
    400: "The body could not be read, or the Host header is not this sidecar's",
    401: "The API key is missing or wrong",
    404: "Not found",
    409: "Conflicts with the current state (a name taken, the default agent)",
    413: "Too large",
    415: "An unsupported file type",
    422: "Invalid request: `code` says what, `params.errors` lists each problem",
    502: "A service the sidecar called failed (a provider, an embedding API)",
    503: "The database stayed locked by another writer past its timeout: try again (Retry-After)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these statuses answer with an `ErrorBody`."""
    return {
        status: {"model": ErrorBody, "description": STATUS_MEANING[status]} for status in statuses
    }


# Every route: the Host check and a body that is not JSON (400), the key check (401), a database
# write lock held elsewhere past the busy timeout (503).
COMMON_ERRORS = error_responses(400, 401, 503)
BUSY_RETRY_AFTER_S = 1


def error_body(detail: str, code: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"detail": detail, "code": code, "params": params or {}}


def domain_error_response(error: DomainError) -> JSONResponse:
    return JSONResponse(
        error_body(error.detail, error.code, error.params), status_code=STATUS_BY_KIND[error.kind]
    )


def provider_error_response(error: ProviderError) -> JSONResponse:
    # The upstream failed, not the request: a gateway error with the reason spelled out.
    body = error_body(str(error), f"provider.{error.kind}", {"status": error.status})
    body["kind"] = error.kind  # kept for clients that read it before `code` existed
    return JSONResponse(body, status_code=502)


def validation_error_response(error: RequestValidationError) -> JSONResponse:
    """FastAPI's list of problems, in the one error body: the first one readable in `detail`;
    each one's place, message, type, field and coded problem (`field.*`, with its parameters) in
    `params.errors` (not its input, which may be a secret)."""
    problems: list[dict[str, Any]] = []
    for e in error.errors():  # not jsonable_encoder: an input of raw bytes breaks it
        loc = [str(part) for part in e.get("loc", ())]
        code, params = field_problem(str(e.get("type", "")), e.get("ctx"))
        problems.append({
            "loc": loc, "msg": str(e.get("msg", "")), "type": str(e.get("type", "")),
            "field": field_name(loc), "code": code, "params": params,
        })  # fmt: skip
    first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
    field = field_name(first["loc"])
    detail = f"{field}: {first['msg']}" if field else str(first["msg"])
    body = error_body(
        detail,
        code="request.invalid",
        params={"field": field, "reason": first["msg"], "errors": problems},
    )
    return JSONResponse(body, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        return domain_error_response(error)

    async def on_provider_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ProviderError)
        return provider_error_response(error)

    async def on_http_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        body = error_body(str(error.detail), f"http.{error.status_code}")
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)

    async def on_validation_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return validation_error_response(error)

    async def on_database_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, (OperationalError, *DRIVER_ERRORS))
        if not is_database_locked(error):
            raise error  # a bug: the 500 below
        # Transient (a long write elsewhere): the client may try again, unlike after a 500.
        log.warning("%s %s: the database is locked; answered 503", request.method, request.url.path)
        release_leaked_connections()
        body = error_body("the database is busy; try again", code="storage.busy")
        headers = {"Retry-After": str(BUSY_RETRY_AFTER_S)}
        return JSONResponse(body, status_code=503, headers=headers)

    async def on_unexpected_error(request: Request, _error: Exception) -> JSONResponse:
        # Starlette logs the traceback after this answer; the client gets no internals.
        body = error_body(f"internal error in {request.method} {request.url.path}", "internal")
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(ProviderError, on_provider_error)
    app.add_exception_handler(OperationalError, on_database_error)
    for driver_error in DRIVER_ERRORS:  # from SQL run on the connection's thread, unwrapped
        app.add_exception_handler(driver_error, on_database_error)
    app.add_exception_handler(Exception, on_unexpected_error)
