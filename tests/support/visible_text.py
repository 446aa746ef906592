"""What a person sees (or hears from a screen reader) of a page: its text and the attributes
shown or read out (`placeholder`, `title`, `aria-label`, `alt`, a button input's `value`),
without scripts, styles, markup, literal code (`<code>`, `<pre>`) or text marked as another
language (`lang="en"` on a Turkish page: the link to the English pages)."""

from __future__ import annotations

from html.parser import HTMLParser

SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
BUTTON_INPUTS = ("submit", "button", "reset")
UNSEEN = frozenset({"script", "style", "code", "pre", "template"})
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class _Reader(HTMLParser):
    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.open: list[tuple[str, bool]] = []  # (tag, whether its text is skipped)
        self.seen: list[str] = []

    def _skipped(self) -> bool:
        return bool(self.open) and self.open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        other_language = bool(values.get("lang")) and values["lang"] != self.language
        skipped = self._skipped() or tag in UNSEEN or other_language
        if not skipped:
            self.seen += [values[name] for name in SHOWN_ATTRIBUTES if values.get(name)]
            if tag == "input" and values.get("type") in BUTTON_INPUTS:
                self.seen.append(values.get("value", ""))
        if tag not in VOID:
            self.open.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        # close up to the matching tag (HTML lets some end tags be left out)
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipped() and data.strip():
            self.seen.append(data)


def visible_text(page: str, language: str) -> str:
    """The page's visible text, each piece on a line of its own, white space collapsed."""
    reader = _Reader(language)
    reader.feed(page)
    reader.close()
    return "\n".join(" ".join(piece.split()) for piece in reader.seen if piece.strip())
