"""Errors people read: a request that fails validation names each field with a coded problem the
UI translates next to that field; an MCP server that cannot start says why in words (a coded
error), with the raw exception text kept as its detail."""

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from sage_sidecar.api.validation_codes import FIELD_CODES, field_problem

LOCALES = Path(__file__).resolve().parents[2] / "web" / "src" / "locales"


def _problems(response) -> list[dict]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "request.invalid"
    return body["params"]["errors"]


def test_a_provider_url_without_a_scheme_is_a_url_problem_on_its_field(client: TestClient, auth):
    body = {"name": "Local", "kind": "openai", "base_url": "localhost:11434/v1"}
    [problem] = _problems(client.post("/api/providers", json=body, headers=auth))
    assert problem["field"] == "base_url"
    assert problem["code"] == "field.url" and problem["params"] == {}
    assert "pattern" in problem["msg"]  # pydantic's English stays for clients that do not translate


def test_each_field_gets_its_own_code_and_parameters(client: TestClient, auth):
    body = {"name": "x" * 300, "kind": "openai", "base_url": "http://ok/"}
    problems = _problems(client.post("/api/providers", json=body, headers=auth))
    assert [(p["field"], p["code"], p["params"]) for p in problems] == [
        ("name", "field.too_long", {"max": 200})
    ]
    problems = _problems(client.post("/api/providers", json={"kind": "openai"}, headers=auth))
    assert ("name", "field.required") in [(p["field"], p["code"]) for p in problems]
    problems = _problems(client.post("/api/providers", json={"name": "n", "kind": "nope"},
                                     headers=auth))  # fmt: skip
    assert [(p["field"], p["code"]) for p in problems] == [("kind", "field.choice")]


def test_pydantic_types_map_to_stable_codes():
    assert field_problem("string_pattern_mismatch", {"pattern": r"^https?://\S+$"}) == (
        "field.url",
        {},
    )
    assert field_problem("string_pattern_mismatch", {"pattern": r"^[a-z]+$"}) == (
        "field.pattern",
        {},
    )
    assert field_problem("greater_than_equal", {"ge": 1}) == ("field.min", {"limit": 1})
    assert field_problem("int_parsing", None) == ("field.number", {})
    assert field_problem("something_new", {}) == ("field.invalid", {})


def test_every_field_code_is_translated_in_both_languages():
    for language in ("en", "zh"):
        fields = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))["errors"][
            "field"
        ]
        for code, params in FIELD_CODES.items():
            text = fields.get(code.removeprefix("field."))
            assert isinstance(text, str), f"{language}.json has no errors.{code}"
            assert set(re.findall(r"\{(\w+)\}", text)) <= params, (language, code)


def _listing(client: TestClient, auth, **server) -> dict:
    created = client.post("/api/mcp-servers", json={"transport": "stdio", **server}, headers=auth)
    assert created.status_code == 201, created.text
    return client.get(f"/api/mcp-servers/{created.json()['id']}/tools", headers=auth).json()


def test_an_mcp_command_that_does_not_exist_is_a_coded_error_with_the_raw_detail(
    client: TestClient, auth
):
    listing = _listing(client, auth, name="broken", command="/nonexistent/mcp-server")
    assert listing["ok"] is False
    assert listing["code"] == "mcp.start.command_not_found"
    assert listing["params"] == {"name": "broken", "command": "/nonexistent/mcp-server"}
    assert "failed to start" in listing["error"]  # the raw detail, behind "Details"


def test_an_mcp_command_that_may_not_run_is_not_permitted(client: TestClient, auth, tmp_path):
    script = tmp_path / "server.sh"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o644)  # not executable
    listing = _listing(client, auth, name="noexec", command=str(script))
    assert listing["ok"] is False
    assert listing["code"] == "mcp.start.not_permitted", listing
    assert listing["params"]["command"] == str(script)


def test_an_mcp_url_without_a_scheme_is_a_url_problem_on_its_field(client: TestClient, auth):
    body = {"name": "remote", "transport": "http", "url": "example.com/mcp"}
    problems = _problems(client.post("/api/mcp-servers", json=body, headers=auth))
    assert [(p["field"], p["code"]) for p in problems] == [("url", "field.url")]
