"""The prompt library through the HTTP API on a real SQLite file: shipped prompts, CRUD,
`{{variables}}`, export and an idempotent import."""

from fastapi.testclient import TestClient

from sage_sidecar.services.prompts import variables


def test_shipped_prompts_are_there_once_and_stay_deleted(app, client: TestClient, auth):
    shipped = client.get("/api/prompts", headers=auth).json()
    titles = [p["title"] for p in shipped]
    assert {"Summarize", "Translate", "Explain code"} <= set(titles)
    translate = next(p for p in shipped if p["title"] == "Translate")
    assert translate["variables"] == ["language", "text"]
    assert client.delete(f"/api/prompts/{translate['id']}", headers=auth).status_code == 204
    # A restart does not bring a deleted shipped prompt back: it was seeded by the migration.
    client.__exit__(None, None, None)
    with TestClient(app, base_url="http://127.0.0.1:8765") as again:
        titles_after = [p["title"] for p in again.get("/api/prompts", headers=auth).json()]
    assert "Translate" not in titles_after and len(titles_after) == len(titles) - 1


def test_create_edit_delete(client: TestClient, auth):
    body = {"title": "Review", "content": "Review {{ file }} for {{topic}}; again {{file}}."}
    created = client.post("/api/prompts", json=body, headers=auth)
    assert created.status_code == 201, created.text
    prompt = created.json()
    assert prompt["variables"] == ["file", "topic"] and prompt["description"] == ""
    changed = client.patch(
        f"/api/prompts/{prompt['id']}", json={"content": "Plain text"}, headers=auth
    ).json()
    assert changed["content"] == "Plain text" and changed["variables"] == []
    assert changed["title"] == "Review"
    assert client.get(f"/api/prompts/{prompt['id']}", headers=auth).json() == changed
    assert client.delete(f"/api/prompts/{prompt['id']}", headers=auth).status_code == 204
    missing = client.get(f"/api/prompts/{prompt['id']}", headers=auth)
    assert missing.status_code == 404 and missing.json()["params"]["what"] == "prompt"


def test_invalid_prompts_are_refused_with_a_code_per_field(client: TestClient, auth):
    cases = [
        ({"title": " ", "content": "x"}, "title", "field.blank"),
        ({"title": "t", "content": " \n\t"}, "content", "field.blank"),
        ({"title": "t", "content": ""}, "content", "field.too_short"),
        ({"title": "t", "content": "x" * 20_001}, "content", "field.too_long"),
        ({"title": "a\nb", "content": "x"}, "title", "field.pattern"),
        ({"title": "t", "description": "a\x00", "content": "x"}, "description", "field.pattern"),
        ({"title": "t", "content": "x\x00y"}, "content", "field.pattern"),
    ]
    for body, field, code in cases:
        response = client.post("/api/prompts", json=body, headers=auth)
        assert response.status_code == 422, body
        assert response.json()["code"] == "request.invalid"
        errors = response.json()["params"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], body
    # The same checks on import, edits included; the file is refused whole.
    bad = {"format": "sage.prompts", "version": 1, "prompts": [{"title": "ok", "content": " "}]}
    assert client.post("/api/prompts/import", json=bad, headers=auth).status_code == 422
    first = client.get("/api/prompts", headers=auth).json()[0]
    blank = client.patch(f"/api/prompts/{first['id']}", json={"title": "  "}, headers=auth)
    assert blank.status_code == 422 and blank.json()["params"]["errors"][0]["code"] == "field.blank"


def test_prompt_text_carries_no_regular_expression_in_the_schema(app):
    """The checks live in validators: a `pattern` on these long strings crashed the fuzz
    layer's generator (schemathesis, inside Python's parser)."""
    schemas = app.openapi()["components"]["schemas"]
    for name in ("PromptCreate", "PromptUpdate"):
        assert "pattern" not in str(schemas[name]), name


def test_variables_are_named_once_in_order():
    assert variables("{{a}} {{ b }} {{a}} {{}} {{ x y }} {{语言}} {not} {{\n}}") == [
        "a", "b", "x y", "语言"]  # fmt: skip


def test_export_then_import_is_idempotent(client: TestClient, auth):
    client.post("/api/prompts", json={"title": "Mine", "content": "Hi {{name}}"}, headers=auth)
    exported = client.get("/api/prompts/export", headers=auth).json()
    assert exported["format"] == "sage.prompts" and exported["version"] == 1
    count = len(exported["prompts"])
    assert {"title": "Mine", "description": "", "content": "Hi {{name}}"} in exported["prompts"]
    # Importing one's own export adds nothing; a new prompt in the file is added once.
    again = client.post("/api/prompts/import", json=exported, headers=auth).json()
    assert again == {"created": 0, "skipped": count}
    exported["prompts"].append({"title": "New", "content": "Fresh"})
    exported["prompts"].append({"title": "New", "content": "Fresh"})
    assert client.post("/api/prompts/import", json=exported, headers=auth).json() == {
        "created": 1, "skipped": count + 1}  # fmt: skip
    assert len(client.get("/api/prompts", headers=auth).json()) == count + 1


def test_a_foreign_or_newer_file_is_refused(client: TestClient, auth):
    for body in ({"format": "other", "version": 1, "prompts": []},
                 {"format": "sage.prompts", "version": 2, "prompts": []},
                 {"format": "sage.prompts", "version": 1, "prompts": [{"title": "x"}]}):  # fmt: skip
        response = client.post("/api/prompts/import", json=body, headers=auth)
        assert response.status_code == 422, body
