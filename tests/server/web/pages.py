"""Reading the hub's HTML pages in tests: their script and link tags, and inline code."""

from html.parser import HTMLParser


class Tags(HTMLParser):
    """Collects <script> and <link> tags, and any text inside a <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict] = []
        self.links: list[dict] = []
        self.inline_code = ""
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))
            self._in_script = True
        elif tag == "link":
            self.links.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_code += data.strip()


def page_tags(response) -> Tags:
    tags = Tags()
    tags.feed(response.text)
    return tags
