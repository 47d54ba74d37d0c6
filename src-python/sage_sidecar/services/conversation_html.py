"""A conversation as one self-contained HTML page: inline CSS, no scripts, nothing fetched.
Every piece of text is escaped, and a Content-Security-Policy forbids scripts besides, so a
hostile message (`<script>`, `<img onerror>`) shows as text in any browser that opens the file."""

from html import escape

from sage_sidecar.storage.models import Conversation, Message

_CSS = """
body{font:15px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:52rem;margin:2rem auto;
padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.4rem}.msg{border-radius:10px;padding:.75rem 1rem;margin:1rem 0}
.user{background:#eef4ff}.assistant{background:#f6f8fa}.who{font-weight:600;font-size:.85rem;
color:#57606a;margin-bottom:.35rem}.text{white-space:pre-wrap;overflow-wrap:anywhere}
.tool{font:13px/1.4 ui-monospace,monospace;color:#57606a;white-space:pre-wrap;margin:.25rem 0}
.status{font-style:italic;color:#9a6700}time{color:#8c959f;font-weight:400;margin-left:.5rem}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}.user{background:#15233b}
.assistant{background:#161b22}}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def export_html(
    conversation: Conversation, messages: list[Message], images: dict[str, str] | None = None
) -> str:
    """`images`: attached images' data URLs by attachment id (the CSP allows `data:` images)."""
    body = [f"<h1>{escape(conversation.title)}</h1>"]
    for message in messages:
        who = "You" if message.role == "user" else "Assistant"
        when = message.created_at.strftime("%Y-%m-%d %H:%M") if message.created_at else ""
        body.append(f'<section class="msg {escape(message.role)}">')
        body.append(f'<div class="who">{who}<time>{escape(when)}</time></div>')
        for part in message.parts:
            if part.get("type") == "tool_call":
                body.append(
                    f'<div class="tool">Tool call {escape(str(part.get("name")))} '
                    f"{escape(str(part.get('arguments')))}</div>"
                )
            elif part.get("type") == "tool_result":
                body.append(
                    f'<div class="tool">Result of {escape(str(part.get("name")))}: '
                    f"{escape(str(part.get('content')))}</div>"
                )
            elif part.get("type") == "image" and (images or {}).get(str(part.get("id"))):
                body.append(f'<img src="{escape((images or {})[str(part["id"])])}" '
                            f'alt="{escape(str(part.get("name")))}" style="max-width:100%">')  # fmt: skip
        body.append(f'<div class="text">{escape(message.content or "")}</div>')
        if message.status != "completed":
            note = message.status + (f": {message.error}" if message.error else "")
            body.append(f'<div class="status">({escape(note)})</div>')
        body.append("</section>")
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(conversation.title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
