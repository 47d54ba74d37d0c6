"""Every HTTP error the sidecar answers carries readable English (`detail`), a stable `code` the
UI translates, and the `params` a translation needs; the status comes from the error's kind."""

from fastapi.testclient import TestClient

from sage_sidecar.api.errors import STATUS_BY_KIND
from sage_sidecar.core.errors import (
    ConflictError,
    DomainError,
    InvalidError,
    NotFoundError,
    TooLargeError,
    UnsupportedError,
    UpstreamError,
)


def test_every_kind_has_a_status():
    kinds = {c.kind for c in (DomainError, ConflictError, InvalidError, NotFoundError,
                              TooLargeError, UnsupportedError, UpstreamError)}  # fmt: skip
    assert kinds <= STATUS_BY_KIND.keys()


def test_a_domain_error_is_not_an_http_error():
    error = InvalidError("the message is empty", code="chat.empty_message", limit=3)
    assert not hasattr(error, "status_code")
    assert (str(error), error.code, error.params) == ("the message is empty", "chat.empty_message",
                                                      {"limit": 3})  # fmt: skip


def test_not_found_names_what_and_which(client: TestClient, auth):
    response = client.get("/api/agents/nope", headers=auth)
    assert response.status_code == 404
    assert response.json() == {
        "detail": "agent 'nope' not found",
        "code": "not_found",
        "params": {"what": "agent", "id": "nope"},
    }


def test_a_conflict_has_its_own_code(client: TestClient, auth):
    body = {"name": "time", "transport": "stdio", "command": "true"}
    assert client.post("/api/mcp-servers", json=body, headers=auth).status_code == 201
    response = client.post("/api/mcp-servers", json=body, headers=auth)
    assert response.status_code == 409
    assert response.json()["code"] == "mcp_server.name_taken"
    assert response.json()["params"] == {"name": "time"}


def test_an_unsupported_file_is_415_with_the_supported_kinds(client: TestClient, auth):
    kb = client.post("/api/knowledge/bases", json={"name": "Docs"}, headers=auth).json()
    response = client.post(f"/api/knowledge/bases/{kb['id']}/files",
                           files={"file": ("tool.exe", b"MZ")}, headers=auth)  # fmt: skip
    assert response.status_code == 415
    body = response.json()
    assert body["code"] == "file.unsupported_type" and body["params"]["name"] == "tool.exe"
    assert ".pdf" in body["params"]["supported"] and "not supported" in body["detail"]


def test_other_http_errors_and_validation_errors_use_the_one_error_body(client: TestClient, auth):
    missing = client.get("/api/no-such-route", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found", "code": "http.404", "params": {}}
    invalid = client.post("/api/agents", json={"name": "", "api_key": "secret"}, headers=auth)
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["detail"] == "name: String should have at least 1 character"
    assert body["code"] == "request.invalid"
    assert body["params"]["field"] == "name"
    assert body["params"]["errors"][0] == {
        "loc": ["body", "name"], "msg": "String should have at least 1 character",
        "type": "string_too_short", "field": "name", "code": "field.too_short", "params": {"min": 1},
    }  # fmt: skip
    assert "secret" not in invalid.text  # the input is not echoed (it may be a key)
    unparsable = client.post("/api/agents", content=b"\xff{", headers=auth)
    assert unparsable.status_code in (400, 422) and set(unparsable.json()) == {
        "detail", "code", "params"}  # fmt: skip


def test_a_bug_is_a_500_with_the_error_body_and_no_internals(settings):
    from sage_sidecar.app import create_app

    app = create_app(settings)

    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    key = settings.api_key.get_secret_value()
    with TestClient(app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False) as c:
        response = c.get("/api/boom", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error in GET /api/boom", "code": "internal",
                               "params": {}}  # fmt: skip


def test_every_error_status_a_route_declares_has_the_error_body(app):
    """The schema publishes `ErrorBody` and every 4xx/5xx of every operation refers to it; no
    route keeps FastAPI's own validation body (which the sidecar never sends)."""
    schema = app.openapi()
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {
        "detail", "code", "params"}  # fmt: skip
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert len(operations) >= 40
    for operation in operations:
        statuses = operation["responses"]
        assert {"400", "401"} <= statuses.keys(), operation["operationId"]
        for status, response in statuses.items():
            if status.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorBody", (operation["operationId"], status)


def _codes_raised() -> dict[str, set[str]]:
    """Every literal code the sidecar passes to an error, a notice or a reply's failure, with the
    names of the parameters passed beside it (keyword arguments, or a `params={…}` dict's keys)."""
    import ast
    from pathlib import Path

    import sage_sidecar

    found: dict[str, set[str]] = {}
    for path in Path(sage_sidecar.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            code = keywords.get("code")
            # ChatFailure(text, code, **params): a reply's setup failure.
            if (
                isinstance(node.func, ast.Name)
                and node.func.id == "ChatFailure"
                and len(node.args) > 1
            ):
                code = node.args[1]
            if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
                continue
            params = keywords.get("params")
            names = (
                {str(k.value) for k in params.keys if isinstance(k, ast.Constant)}
                if isinstance(params, ast.Dict)
                else set(keywords) - {"code", "params"}
            )
            found.setdefault(code.value, set()).update(names)
    return found


def _placeholders(text: str) -> set[str]:
    import re

    return set(re.findall(r"\{(\w+)\}", text))


def test_every_code_the_sidecar_sends_is_translated_in_both_languages():
    """A code without a translation would show the sidecar's English in the 中文 UI; a
    translation naming a parameter the sidecar does not send would show `{name}` literally."""
    import json
    from pathlib import Path

    locales = Path(__file__).resolve().parents[2] / "web" / "src" / "locales"
    from typing import get_args

    from sage_sidecar.schemas.protocol.parts import FailureCode, NoticeCode

    codes = _codes_raised()
    assert len(codes) >= 20, codes  # the scan found the raise sites
    # The codes of a reply's failures and notices, however they are passed.
    for code in (*get_args(FailureCode), *get_args(NoticeCode)):
        codes.setdefault(code, set())

    def lookup(messages: dict, dotted: str) -> str | None:
        node: object = messages
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, str) else None

    for language in ("en", "zh"):
        messages = json.loads((locales / f"{language}.json").read_text(encoding="utf-8"))
        for code, params in sorted(codes.items()):
            # Errors (HTTP bodies, error frames) under errors.<code>; notices and failures of a
            # reply under chat.code.<code>.
            text = lookup(messages, f"errors.{code}") or lookup(messages, f"chat.code.{code}")
            assert text is not None, f"{language}.json has no translation for the code {code!r}"
            unknown = _placeholders(text) - params
            assert not unknown, f"{language}.json's {code!r} names {unknown}, not sent ({params})"
