"""Domain and provider errors as HTTP responses: the one place that knows the status codes.

Every error body is `{"detail": "<readable English>", "code": "<stable.code>", "params": {…}}`;
the UI translates by `code` and falls back to `detail`. Validation errors (422) stay FastAPI's
(`detail` is a list there); other HTTP errors (an unknown route: 404, a wrong method: 405) get
the code `http.<status>`.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sage_sidecar.core.errors import DomainError, ErrorKind
from sage_sidecar.providers.base import ProviderError

STATUS_BY_KIND: dict[ErrorKind, int] = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "unsupported": 415,
    "upstream": 502,  # a service we called failed, not the request
}


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

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(ProviderError, on_provider_error)
