"""Inline SVG: a figure's SVG (already made small and deterministic by figures.svg.tidy_svg) made fit for
an HTML page (presentation attributes, ids unique in the page, role/aria-label/<title>), and the
report's equations (mathtext) and diagrams as such SVGs."""
from __future__ import annotations

import hashlib
import html
import io
import re
from functools import lru_cache

from markupsafe import Markup

from ..figures.svg import tidy_svg

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
def _diagram_svg(name: str, narrow: bool = False) -> str:
    from ..figures.diagrams import DIAGRAMS
    if name not in DIAGRAMS:
        raise KeyError(f"unknown diagram {name!r}; known: {', '.join(DIAGRAMS)}")
    return DIAGRAMS[name](narrow=narrow)


def diagram(name: str, alt: str) -> Markup:
    """A drawing of the model (figures.DIAGRAMS[name]) as an accessible inline SVG, in its two layouts
    (class "wide" and "narrow": the page's style shows one, as for a figure); the template gives its
    alt text and caption."""
    return Markup("").join((layout(_inline_svg(_diagram_svg(name), f"dg-{name}-", alt), "wide"),
                            layout(_inline_svg(_diagram_svg(name, narrow=True), f"dgs-{name}-", alt), "narrow")))


def layout(svg: Markup, name: str) -> Markup:
    """An inline SVG marked as one layout of its figure (class "wide" or "narrow", see report.css)."""
    return Markup(str(svg).replace("<svg ", f'<svg class="{name}" ', 1))
