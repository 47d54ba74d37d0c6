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


def test_other_http_errors_get_a_code_and_validation_stays_fastapis(client: TestClient, auth):
    missing = client.get("/api/no-such-route", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found", "code": "http.404", "params": {}}
    invalid = client.post("/api/agents", json={"name": ""}, headers=auth)
    assert invalid.status_code == 422 and isinstance(invalid.json()["detail"], list)
