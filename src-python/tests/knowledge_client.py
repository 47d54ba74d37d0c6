"""Helpers for the knowledge tests: real documents written by the libraries that make such files,
and API calls (create a base, upload, wait for the ingest worker, search)."""

import time
from pathlib import Path

from fastapi.testclient import TestClient

DONE = ("ready", "failed")


def create_base(client: TestClient, auth: dict, **fields) -> dict:
    response = client.post("/api/knowledge/bases", json={"name": "Docs", **fields}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def upload(client: TestClient, auth: dict, kb_id: str, *files: Path | tuple[str, bytes]):
    parts = []
    for item in files:
        name, data = (item.name, item.read_bytes()) if isinstance(item, Path) else item
        parts.append(("files", (name, data, "application/octet-stream")))
    return client.post(f"/api/knowledge/bases/{kb_id}/files", files=parts, headers=auth)


def files_of(client: TestClient, auth: dict, kb_id: str) -> list[dict]:
    response = client.get(f"/api/knowledge/bases/{kb_id}/files", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def wait_indexed(client: TestClient, auth: dict, kb_id: str, timeout: float = 60) -> list[dict]:
    """Poll until every file of the base is ready or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = files_of(client, auth, kb_id)
        if files and all(f["status"] in DONE for f in files):
            return files
        time.sleep(0.05)
    raise AssertionError(f"files not indexed in {timeout} s: {files_of(client, auth, kb_id)}")


def search(client: TestClient, auth: dict, query: str, kb_ids: list[str], **extra) -> list[dict]:
    body = {"query": query, "kb_ids": kb_ids, **extra}
    response = client.post("/api/knowledge/search", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["hits"]


# --- real documents ---------------------------------------------------------------------------

PDF_PAGES = [
    ("Getting started", "Sage keeps every document on this computer. " * 3),
    ("Installing", "Run the installer and choose a folder for the data directory. " * 3),
    (
        "Troubleshooting",
        "If the engine stops, the window reconnects by itself within seconds. " * 3,
    ),
]


def write_pdf(
    path: Path, pages: list[tuple[str, str]] = PDF_PAGES, password: str | None = None
) -> Path:
    """A PDF with one titled page per entry and a bookmark (outline entry) per page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for title, body in pages:
        pdf.add_page()
        pdf.start_section(title)
        pdf.multi_cell(0, 8, title)
        pdf.ln(4)
        pdf.multi_cell(0, 6, body)
    pdf.output(str(path))
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(path))
        writer.encrypt(
            user_password=password, owner_password=password + "-owner", algorithm="RC4-128"
        )
        with path.open("wb") as out:
            writer.write(out)
    return path


def write_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Field guide", level=1)
    document.add_paragraph("An introduction to the birds of the valley.")
    document.add_heading("Herons", level=2)
    document.add_paragraph("Grey herons stand still in shallow water for a long time.")
    table = document.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Bird", "Length"
    table.rows[1].cells[0].text, table.rows[1].cells[1].text = "Grey heron", "95 cm"
    document.add_heading("Kingfishers", level=2)
    document.add_paragraph("Kingfishers dive for small fish from a low perch.")
    document.save(str(path))
    return path


HTML = """<!doctype html><html><head><title>Tea notes</title>
<style>body { color: red }</style><script>var secret = "do not index";</script></head>
<body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<h1>Tea notes</h1><p>Green tea is brewed at about <b>80 °C</b> for two minutes.</p>
<h2>Black tea</h2><p>Black tea takes boiling water</p><ul><li>Assam is malty.</li>
<li>Darjeeling is floral.</li></ul><footer>© the tea club</footer></body></html>"""


def write_html(path: Path) -> Path:
    path.write_text(HTML, encoding="utf-8")
    return path
