"""A fetched web page's HTML reduced to text, for the `fetch_url` tool. It runs in a parse worker
process (parse_worker.py, op `page_text`; services/page_reader.py sends it there): BeautifulSoup
on a large hostile page holds Python's lock for hundreds of milliseconds at a time, which would
stall every reply if it ran in the sidecar."""


def html_to_text(html: str) -> str:
    from bs4 import BeautifulSoup  # imported on first use: keeps sidecar start-up fast

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)
