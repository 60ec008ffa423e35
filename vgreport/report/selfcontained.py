"""The self-contained check: everything in a page that would make a browser fetch, navigate or run
something outside the file, and where in the templates it came from."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import jinja2

from .environment import _template_name

# Attributes whose value is a URL (HTML, SVG and their legacy forms), by local name (xlink:href -> href).
_URL_ATTRIBUTES = frozenset((
    "href", "src", "srcset", "action", "formaction", "poster", "background", "cite", "data", "codebase",
    "classid", "archive", "longdesc", "usemap", "manifest", "ping", "icon", "lowsrc", "dynsrc", "profile",
    "base", "imagesrcset"))
# Elements that load or run something whatever their attributes say.
_FORBIDDEN_TAGS = frozenset(("script", "link", "iframe", "frame", "frameset", "object", "embed", "applet",
                             "base", "portal"))
_ANIMATIONS = frozenset(("set", "animate", "animatemotion", "animatetransform", "discard"))
# CSS that fetches: url() and image-set()/image() strings other than #fragment or data:, any @import.
_CSS_URL = re.compile(r"""url\(\s*['"]?\s*([^)'"]*)""", re.I)
_CSS_IMAGE = re.compile(r"""(?:-webkit-)?image(?:-set)?\(([^)]*)\)""", re.I)
_CSS_STRING = re.compile(r"""(['"])(.*?)\1""", re.S)
_CSS_IMPORT = re.compile(r"@import\b[^;]{0,80}", re.I)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.S)


def _inside(url: str) -> bool:
    """A same-document fragment, a data: URI or empty: nothing to fetch and no way out of the page."""
    url = url.strip()
    return not url or url.startswith("#") or url.lower().startswith("data:")


def _srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset, split as the HTML standard does (a data: URI may contain commas)."""
    urls, i = [], 0
    while i < len(value):
        while i < len(value) and (value[i].isspace() or value[i] == ","):
            i += 1
        start = i
        while i < len(value) and not value[i].isspace():
            i += 1
        url = value[start:i]
        if url.endswith(","):
            urls.append(url.rstrip(","))
            continue
        if url:
            urls.append(url)
        depth = 0  # skip the descriptors up to a comma outside parentheses
        while i < len(value) and (value[i] != "," or depth):
            depth += {"(": 1, ")": -1}.get(value[i], 0)
            i += 1
    return urls


def _css_unescape(text: str) -> str:
    def one(match: re.Match) -> str:
        if match.group(1) is None:
            return match.group(2)
        code = int(match.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
    return _CSS_ESCAPE.sub(one, text)


class _ReferenceFinder(HTMLParser):
    """Collects (description, text to look for in the templates, line in the page) of every
    reference out of the page: URL attributes, refresh, event handlers, forbidden elements, and
    the markup inside <style> and comments (where browsers and html.parser may disagree)."""

    def __init__(self, depth: int = 0):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, int]] = []
        self.hidden: list[str] = []  # text of <style> elements and comments, parsed again
        self.depth = depth
        self.in_style = False

    def _add(self, description: str, needle: str) -> None:
        self.found.append((description, needle, self.getpos()[0]))

    def handle_starttag(self, tag, attrs):
        if tag in _FORBIDDEN_TAGS:
            self._add(f"<{tag}>", f"<{tag}")
        if tag == "style":
            self.in_style = True
        values = {name: value or "" for name, value in attrs}
        if tag == "meta" and values.get("http-equiv", "").strip().lower() == "refresh":
            self._add("<meta http-equiv=refresh>", "refresh")
        if tag in _ANIMATIONS:
            target = values.get("attributename", "").strip().lower().rpartition(":")[2]
            if target in _URL_ATTRIBUTES or target.startswith("on"):
                self._add(f"<{tag} attributeName={target}>", "attributeName")
        for name, value in values.items():
            local = name.rpartition(":")[2]
            if local.startswith("on") or name.startswith("on"):
                self._add(f"{name}={value}", f"{name}=")
            elif local in ("srcset", "imagesrcset"):
                for url in _srcset_urls(value):
                    if not _inside(url):
                        self._add(f"{name}={url}", url)
            elif local in _URL_ATTRIBUTES and not _inside(value):
                self._add(f"{name}={value.strip()}", value.strip())

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.hidden.append(data)

    def handle_comment(self, data):
        self.hidden.append(data)

    def unknown_decl(self, data):  # <![CDATA[...]]>
        self.hidden.append(data)


def _references(page: str, depth: int = 0) -> list[tuple[str, str, int]]:
    finder = _ReferenceFinder(depth)
    finder.feed(page)
    finder.close()
    found = finder.found
    if depth < 3:  # what html.parser took for text may be markup to a browser
        for text in finder.hidden:
            found.extend((d, n, 0) for d, n, _ in _references(text, depth + 1))
    if depth == 0:  # CSS anywhere: <style>, style="", presentation attributes, however escaped
        lines = {}
        for text in {page, html.unescape(page), _css_unescape(page), _css_unescape(html.unescape(page))}:
            for match in _CSS_URL.finditer(text):
                if not _inside(match.group(1)):
                    lines.setdefault(f"url({match.group(1).strip()})", match.group(1).strip())
            for match in _CSS_IMAGE.finditer(text):
                for string in _CSS_STRING.finditer(match.group(1)):
                    if not _inside(string.group(2)):
                        lines.setdefault(f"image-set({string.group(2)})", string.group(2))
            for match in _CSS_IMPORT.finditer(text):
                lines.setdefault(match.group(0).strip(), "@import")
        found.extend((description, needle, 0) for description, needle in lines.items())
    return found


def external_references(page: str) -> list[str]:
    """Everything in an HTML page that would make a browser fetch, navigate or run something
    outside the file: URL attributes other than #fragment and data: (quoted or not, entity-encoded
    or not; srcset candidates one by one), <meta http-equiv=refresh>, event handlers (on*),
    script/link/iframe/object/embed/base elements, SVG animations of such attributes, and CSS
    url()/image-set()/@import outside data:, CSS escapes decoded. Parsed with html.parser."""
    return list(dict.fromkeys(description for description, _, _ in _references(page)))


def _where(env: jinja2.Environment, needle: str, page_line: int) -> str:
    """'template X, line N' holding `needle` (the user's templates searched first), or the page's line."""
    for loader in env.loader.loaders:
        for filename, source in loader.loaded.items():
            at = source.lower().find(needle.lower())
            if at >= 0:
                return f"template {_template_name(env, filename)}, line {source.count(chr(10), 0, at) + 1}"
    return f"the rendered report, line {page_line}" if page_line else "the rendered report"
