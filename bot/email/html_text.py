"""An HTML email part as plain text, for when a customer's client sends no text part.

Quoted history stays recognisable: a <blockquote> becomes "> " lines, so the quote
stripper removes it as it does in a text part.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "template"}
_BLOCK = {
    "address", "article", "br", "div", "dl", "dt", "dd", "footer", "h1", "h2", "h3", "h4",
    "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def html_to_text(html: str) -> str:
    """Readable text of `html`: blocks on their own lines, quotes as "> " lines."""
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    return reader.text()


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._line: list[str] = []
        self._skipping = 0
        self._quoted = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag == "blockquote":
            self._break()
            self._quoted += 1
        elif tag in _BLOCK:
            self._break(blank=tag == "p")
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag == "blockquote":
            self._break()
            self._quoted = max(0, self._quoted - 1)
        elif tag in _BLOCK:
            self._break(blank=tag == "p")
            self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._line.append(first)
            for line in rest:
                self._break()
                self._line.append(line)
            return
        self._line.append(_SPACES.sub(" ", data))

    def _break(self, blank: bool = False) -> None:
        line = "".join(self._line).strip()
        self._line = []
        prefix = "> " * self._quoted
        if line or (self._lines and self._lines[-1] != prefix.rstrip()):
            self._lines.append((prefix + line).rstrip())
        if blank and self._lines and self._lines[-1]:
            self._lines.append("")

    def text(self) -> str:
        self._break()
        text = "\n".join(self._lines).replace("\xa0", " ")
        return re.sub(r"\n{3,}", "\n\n", text).strip()
