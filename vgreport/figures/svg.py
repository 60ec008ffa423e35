"""matplotlib's SVG made small and deterministic (tidy_svg): what every figure, diagram and equation goes
through before a page inlines it. Part of figures/, which imports nothing from report/."""
from __future__ import annotations

import hashlib
import re

__all__ = ["tidy_svg"]

_LONG_DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d{3,}(?![\d.])")  # "453.543307pt" too
_TRAILING_ZEROS = re.compile(r"(?<![\w.])(-?\d+)\.(\d*[1-9])?0+(?![\d.])")  # 248.50 -> 248.5, 3.00 -> 3
_ATTRIBUTE = re.compile(r'(\s[\w:-]+=")([^"]*)(")')


def _two_decimals(match: re.Match) -> str:
    text = f"{float(match.group(0)):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tidy_svg(text: str) -> str:
    """Inline-ready SVG: no prolog or metadata, coordinates rounded to 2 decimals (text content and
    scale factors are left alone), path data on one line, no `rotate(-0 …)`, a sans-serif fallback
    font, and ids unique to this figure."""
    text = text[text.index("<svg"):]  # inline: drop the XML declaration and doctype
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)

    def attribute(m: re.Match) -> str:
        if m.group(1).strip() == 'transform="':  # positions rounded; scale factors keep their digits
            value = re.sub(r"(translate|rotate)\(([^)]*)\)",
                           lambda t: f"{t.group(1)}({_LONG_DECIMAL.sub(_two_decimals, t.group(2))})", m.group(2))
        else:
            value = _LONG_DECIMAL.sub(_two_decimals, m.group(2))
        value = _TRAILING_ZEROS.sub(lambda z: z.group(1) + (f".{z.group(2)}" if z.group(2) else ""), value)
        if m.group(1).strip() == 'd="':
            value = _compact_path(" ".join(value.split()))
        return m.group(1) + value + m.group(3)
    text = _ATTRIBUTE.sub(attribute, text)
    text = re.sub(r"\n[ \t]+<", "\n<", text)  # no indentation (a tenth of the bytes)
    text = re.sub(r'\s+transform="rotate\(-?0 [^")]*\)"', "", text)
    text = re.sub(r"font-family: ('[^';\"]*')(?=[;\"])", r"font-family: \1, sans-serif", text)
    return _unique_ids(_referenced_ids_only(text))


# ids the figure code sets on purpose (gid): reference lines, found by tests and readers' tools
_KEPT_IDS = re.compile(r"(bound|chance|threshold|edge|point|label)-")


def _referenced_ids_only(svg: str) -> str:
    """Drop the ids matplotlib puts on every group (axes_1, line2d_7, ...) that nothing points
    at: they were a fifth of the bytes of an inline figure."""
    used = set(re.findall(r'href="#([^"]+)"', svg)) | set(re.findall(r"url\(#([^)]+)\)", svg))
    return re.sub(r'\sid="([^"]+)"', lambda m: m.group(0) if m.group(1) in used or _KEPT_IDS.match(m.group(1))
                  else "", svg)


def _hundredths(value: int) -> str:
    text = f"{value / 100:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _compact_path(d: str) -> str:
    """Path data of moves and lines in relative form with implicit repeats: 'M 10 20 L 12.5 21 L 15 22'
    -> 'M 10 20 l 2.5 1 2.5 1' (a third shorter; exact, as it works in whole hundredths of a point).
    Paths with curves are left as they are."""
    tokens = d.split()
    if any(t.isalpha() and t not in "MLz" for t in tokens):
        return d
    out, command = [], None
    x = y = start_x = start_y = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "z":
            out.append("z")
            x, y, command = start_x, start_y, None
            i += 1
            continue
        nx, ny = round(float(tokens[i + 1]) * 100), round(float(tokens[i + 2]) * 100)
        if token == "M" and not out:  # the first point stays absolute
            out += ["M", _hundredths(nx), _hundredths(ny)]
            command = "M"
        else:
            letter = "m" if token == "M" else "l"
            if letter != command or letter == "m":
                out.append(letter)
            out += [_hundredths(nx - x), _hundredths(ny - y)]
            command = letter
        if token == "M":
            start_x, start_y = nx, ny
        x, y = nx, ny
        i += 3
    return " ".join(out)


def _unique_ids(svg: str) -> str:
    """Prefix every id with a digest of the figure, so many inline SVGs share one HTML page; the
    hashed ids matplotlib gives clip paths and markers become short counters (every use repeats them)."""
    ids = list(dict.fromkeys(re.findall(r'\bid="([^"]+)"', svg)))
    prefix = "f" + hashlib.sha256(svg.encode()).hexdigest()[:6] + "-"
    names = {name: prefix + (name if _KEPT_IDS.match(name) else f"{i:x}") for i, name in enumerate(ids)}
    return re.sub(r'(\bid="|href="#|url\(#)([^")]+)',
                  lambda m: m.group(1) + names.get(m.group(2), m.group(2)), svg)
