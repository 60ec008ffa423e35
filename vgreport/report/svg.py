"""Inline SVG: matplotlib's output made small and deterministic (tidy_svg), then made fit for an HTML
page (presentation attributes, ids unique in the page, role/aria-label/<title>), and the report's
equations (mathtext) and diagrams as such SVGs."""
from __future__ import annotations

import hashlib
import html
import io
import re
from functools import lru_cache

from markupsafe import Markup

# name -> (mathtext source, the same formula in words for screen readers and the SVG <title>)
EQUATIONS = {
    "rnn_step": (r"h_t = \varphi\,(a_t), \quad a_t = W_{hh}\, h_{t-1} + W_{xh}\, x_t + b",
                 "h_t equals phi of a_t, where a_t equals W_hh times h_(t-1) plus W_xh times x_t plus b"),
    "bptt_product": (r"\dfrac{\partial h_T}{\partial h_k} = \prod_{j=k+1}^{T} \mathrm{diag}\left(\varphi\,'(a_j)\right)\, W_{hh}",
                     "the Jacobian of h_T with respect to h_k equals the product over j from k+1 to T "
                     "of diag(phi'(a_j)) times W_hh"),
    "gamma": (r"\gamma = \sup_a\, |\varphi\,'(a)|: \quad \gamma_{\tanh} = 1, \quad \gamma_{\mathrm{sigmoid}} = 1/4",
              "gamma is the largest value of the derivative of phi: 1 for tanh, 1/4 for the sigmoid"),
    "pascanu_bound": (r"\Vert\, \partial h_T / \partial h_k \,\Vert \;\leq\; "
                      r"\left(\gamma\, \sigma_{\max}(W_{hh})\right)^{T-k}",
                      "the norm of the Jacobian of h_T with respect to h_k is at most "
                      "(gamma times sigma_max of W_hh) to the power T minus k"),
    "decay_law": (r"\log\, \Vert\, \partial L / \partial h_k \,\Vert \;\approx\; c + (T-k)\, r",
                  "the log of the gradient norm at step k is about c plus (T minus k) times r"),
    "linear_rnn_exact": (r"W_{hh} = g\,Q \quad\Rightarrow\quad \Vert\, \partial L / \partial h_k \,\Vert"
                         r" = g^{T-k}\, \Vert\, \partial L / \partial h_T \,\Vert",
                         "if W_hh equals g times an orthogonal matrix Q, the gradient norm at step k equals "
                         "g to the power T minus k times the gradient norm at step T"),
    "lstm_cell": (r"c_t = f_t \odot c_{t-1} + i_t \odot z_t, \quad h_t = o_t \odot \tanh(c_t)",
                  "c_t equals f_t times c_(t-1) plus i_t times z_t, element-wise; h_t equals o_t times "
                  "tanh of c_t"),
    "lstm_gates": (r"f_t = \sigma(a^f_t), \quad i_t = \sigma(a^i_t), \quad o_t = \sigma(a^o_t), \quad "
                   r"z_t = \tanh(a^z_t), \quad a^f_t = W_f\, [h_{t-1}, x_t] + b_f,\ \ldots",
                   "f_t, i_t and o_t are the sigmoid of their pre-activations, z_t the tanh of its own; "
                   "each pre-activation is a weight matrix times h_(t-1) and x_t plus a bias, e.g. b_f for the "
                   "forget gate"),
    "chrono": (r"b_f \sim \log\, \mathcal{U}[1,\, T_{\max} - 1], \quad b_i = -b_f",
               "the forget-gate bias is the log of a uniform draw between 1 and T_max minus 1; "
               "the input-gate bias is its negative"),
}


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


# SVG presentation attributes that matplotlib writes as style="...". As attributes they render the
# same in browsers and WeasyPrint, and WeasyPrint's HTML parser no longer logs each one as an
# unknown CSS property.
_PRESENTATION = frozenset((
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "opacity",
    "clip-rule", "color", "display", "visibility", "font-family", "font-size", "font-style",
    "font-weight", "text-anchor", "dominant-baseline"))
_STYLED_TAG = re.compile(r'<[A-Za-z][^<>]*\sstyle="[^"]*"[^<>]*>')
_UNIVERSAL_RULE = re.compile(r'\s*<style type="text/css">\s*\*\s*\{([^{}]*)\}\s*</style>')


def _declarations(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(";"):
        name, sep, value = part.partition(":")
        if sep and name.strip():
            out.append((name.strip().lower(), value.strip()))
    return out


def _restyle(tag: str, declarations: list[tuple[str, str]]) -> str:
    """Move presentation properties of `tag` (an opening tag) into attributes it lacks."""
    added, rest = [], []
    for name, value in declarations:
        if name in _PRESENTATION and not re.search(rf'\s{re.escape(name)}="', tag):
            added.append(f'{name}="{value}"')
        else:
            rest.append(f"{name}: {value}")
    if rest:
        added.append(f'style="{"; ".join(rest)}"')
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return tag[:end].rstrip() + "".join(" " + a for a in added) + tag[end:]


def _presentation_attributes(svg: str) -> str:
    """style="fill: #fff" -> fill="#fff"; matplotlib's `*{...}` rule -> attributes on the root,
    which every element inherits unless it sets its own (what the universal rule meant)."""
    rule = _UNIVERSAL_RULE.search(svg)
    if rule:
        svg = svg[:rule.start()] + svg[rule.end():]
        svg = re.sub(r"\s*<defs>\s*</defs>", "", svg, count=1)
        root = re.search(r"<svg\b[^<>]*>", svg)
        if root:
            svg = svg[:root.start()] + _restyle(root.group(0), _declarations(rule.group(1))) + svg[root.end():]

    def fix(match: re.Match) -> str:
        tag = match.group(0)
        style = re.search(r'\sstyle="([^"]*)"', tag)
        return _restyle(tag[:style.start()] + tag[style.end():], _declarations(style.group(1)))
    return _STYLED_TAG.sub(fix, svg)


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make every id of an inline SVG unique in the page and point its references at the new ids."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if not ids:
        return svg
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'(href=")#([^"]+)"', lambda m: f'{m.group(1)}#{prefix}{m.group(2)}"'
                 if m.group(2) in ids else m.group(0), svg)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})" if m.group(1) in ids else m.group(0), svg)


def _labelled(svg: str, label: str) -> str:
    """An accessible inline SVG: role="img", aria-label and a <title> as its first child
    (browsers read the label; WeasyPrint's tagged PDF takes the figure's /Alt from <title>)."""
    text = html.escape(" ".join(label.split()), quote=True)
    svg = re.sub(r"\s(role|aria-label|aria-hidden)=\"[^\"]*\"", "", svg[:svg.index(">")]) + svg[svg.index(">"):]
    svg = svg.replace("<svg", f'<svg role="img" aria-label="{text}"', 1)
    svg = re.sub(r"<title>.*?</title>", "", svg, flags=re.S)
    return re.sub(r"(<svg\b[^>]*>)", lambda m: m.group(1) + f"<title>{text}</title>", svg, count=1)


def _inline_svg(svg: str, prefix: str, label: str) -> Markup:
    svg = svg[svg.index("<svg"):]  # no XML declaration or doctype inside HTML
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    return Markup(_labelled(_prefix_ids(_presentation_attributes(svg), prefix), label))


@lru_cache(maxsize=64)
def equation_svg(name: str) -> str:
    """EQUATIONS[name] drawn by matplotlib's mathtext as SVG paths: no JavaScript and no fonts
    needed, so it looks the same in every browser and in the PDF. Deterministic: default style,
    a fixed hash salt and no date."""
    import matplotlib
    import matplotlib.style
    from matplotlib.figure import Figure

    tex, spoken = EQUATIONS[name]
    salt = hashlib.sha256(tex.encode()).hexdigest()[:12]
    with matplotlib.style.context("default"), matplotlib.rc_context(
            {"mathtext.fontset": "dejavuserif", "font.family": "DejaVu Serif", "svg.fonttype": "path",
             "svg.hashsalt": salt, "text.color": "#1a1a1a"}):
        fig = Figure(figsize=(0.01, 0.01))
        fig.text(0, 0, f"${tex}$", fontsize=11.5)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0.01, transparent=True,
                    metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    # glyphs stay paths here (mathtext's big operators need fonts WeasyPrint may lack); rounding to
    # 1/100 pt halves their size
    return str(_inline_svg(tidy_svg(buffer.getvalue()), f"eq-{name}-", spoken))


@lru_cache(maxsize=8)
def _diagram_svg(name: str) -> str:
    from ..figures.diagrams import DIAGRAMS
    if name not in DIAGRAMS:
        raise KeyError(f"unknown diagram {name!r}; known: {', '.join(DIAGRAMS)}")
    return DIAGRAMS[name]()


def diagram(name: str, alt: str) -> Markup:
    """A drawing of the model (figures.DIAGRAMS[name]) as an accessible inline SVG; the template
    gives its alt text and caption."""
    return _inline_svg(_diagram_svg(name), f"dg-{name}-", alt)
