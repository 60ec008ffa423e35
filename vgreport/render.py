"""Stage 10: the document. Findings and figures -> report.html (jinja2) and report.pdf (WeasyPrint).

Templates hold words and layout; numbers arrive through the filters `fmt`, `pct` and `ci`.
Identical inputs give byte-identical files: no clock is read here (the report's date is the time
of the newest measurement, passed in), SVG ids depend only on content, equations are drawn by
matplotlib's mathtext with a fixed style, and the PDF's dates, attachment dates, font time stamps
and file identifier are all derived from the inputs.
"""
from __future__ import annotations

import hashlib
import html
import io
import math
import numbers
import os
import re
import traceback
import types
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import jinja2
import jinja2.sandbox
import numpy as np
from markupsafe import Markup

from . import shipped_folder
from .store import write_atomic

if TYPE_CHECKING:  # the figures and findings stacks load only when a report is rendered, never for
    from .findings import Evaluation, Result  # the template listing an unchanged rebuild hashes

__all__ = ["ReportContext", "render_report", "render_html", "make_environment", "shipped_templates_dir",
           "external_references", "equation_svg", "diagram", "EQUATIONS", "PAPERS", "EDITIONS", "FORMATS", "fmt", "pct",
           "ci", "floor", "fixed", "keep_formulas", "typeset", "author_year", "ReportTemplateError", "template_files"]

FORMATS = ("html", "pdf")
EDITIONS = ("student", "instructor")  # the instructor edition adds an answer under every question
PAPERS = {"a4": "A4", "letter": "letter"}  # --paper value -> CSS @page size
# WeasyPrint's tagged variant: headings, lists, tables and figures (with their alt text) in the
# structure tree for screen readers. Checked on this report: same pages, same look as untagged.
PDF_VARIANT = "pdf/ua-1"

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

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


@dataclass
class ReportContext:
    profile: str
    profile_description: str
    measured_at: str                      # ISO time of the newest measurement: the report's date
    versions: dict[str, str]              # vgreport, python, torch, numpy, ... -> version
    compute_seconds: float                # sum of the cells' compute time
    n_cells: int
    seeds: list[int]
    experiments: list                     # vgreport.specs.Experiment, in battery order
    paper: str = "a4"                     # "a4" | "letter"
    attachments: list[Path] = field(default_factory=list)   # embedded in the PDF
    only_axes: tuple = ()
    edition: str = "student"              # "student" or "instructor" (adds the answers to the questions)
    manifest_rows: list = field(default_factory=list)       # (name, value) for the appendix (vgreport.manifest)
    changes: dict | None = None           # vgreport.diff.compare(baseline, this build), with --baseline
    failed_cells: list = field(default_factory=list)  # [{"cell": label, "error": one line}]: an incomplete build

    @property
    def date(self) -> datetime | None:
        """measured_at as an aware datetime (UTC when it names no zone); None when absent."""
        try:
            when = datetime.fromisoformat(self.measured_at)
        except (TypeError, ValueError):
            return None
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)

    @property
    def date_text(self) -> str:
        """'25 November 2026, 07:55 UTC' (no locale involved), or 'unknown'."""
        when = self.date
        if when is None:
            return "unknown"
        when = when.astimezone(timezone.utc)
        return f"{when.day} {_MONTHS[when.month - 1]} {when.year}, {when:%H:%M} UTC"


def shipped_templates_dir() -> Path:
    """templates/ inside an installed wheel, or at the top of the repository."""
    return shipped_folder("templates", "report.html.j2")


# ---------------------------------------------------------------- filters

def _missing(x) -> bool:
    return (x is None or isinstance(x, jinja2.Undefined)
            or (isinstance(x, numbers.Real) and not isinstance(x, numbers.Integral) and not math.isfinite(x)))


def _minus(text: str) -> str:
    return text.replace("-", "\u2212")  # a typographic minus sign


def _grouped(value: int) -> str:
    return _minus(f"{value:,}".replace(",", "\u202f"))  # narrow no-break space between thousands


def fmt(x: Any, digits: int = 3) -> str:
    """`digits` significant digits; whole numbers in full; thousands grouped; powers of ten outside
    [0.001, 10^6); a typographic minus; 'n/a' for None/NaN; strings pass through unchanged."""
    if _missing(x):
        return "n/a"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, str):
        return x
    if isinstance(x, numbers.Integral):
        return _grouped(int(x))
    if not isinstance(x, numbers.Real):
        return str(x)
    x = float(x)
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    if exponent >= 6 or exponent < -3:
        mantissa, power = f"{x:.{max(digits - 1, 0)}e}".split("e")
        return Markup(f"{_minus(mantissa)}\u202f×\u202f10<sup>{_minus(str(int(power)))}</sup>")
    if x.is_integer():
        return _grouped(int(x))
    if exponent >= digits - 1:
        # 1234.5 with 3 digits -> 1 230: round to the significant digits, then group thousands
        return _grouped(int(round(x, digits - 1 - exponent)))
    return _minus(f"{x:.{digits}g}")


def pct(x: Any, digits: int = 0) -> str:
    """A fraction as a percentage: 0.453 -> '45%'; 'n/a' when missing."""
    if _missing(x) or isinstance(x, str):
        return "n/a"
    return _minus(f"{100 * float(x):.{digits}f}%")


def ci(pair: Any, digits: int = 3) -> str:
    """'[lo, hi]' from a (lo, hi) pair or a dict with lo/hi; 'n/a' when either end is missing."""
    if isinstance(pair, dict):
        pair = (pair.get("lo"), pair.get("hi"))
    elif hasattr(pair, "lo") and hasattr(pair, "hi"):  # the findings' Interval and Share records
        pair = (pair.lo, pair.hi)
    try:
        lo, hi = pair
    except (TypeError, ValueError):
        return "n/a"
    if _missing(lo) or _missing(hi):
        return "n/a"
    return Markup("[{}, {}]").format(fmt(lo, digits), fmt(hi, digits))


def floor(x: Any, digits: int = 3) -> str:
    """A lower bound shown without rounding it up: 0.99962 with 3 decimals -> '0.999', never '1'
    (so "R² ≥ 1" cannot appear for a fit that is not perfect)."""
    if _missing(x) or isinstance(x, str):
        return fmt(x)
    value = math.floor(float(x) * 10 ** digits + 1e-9) / 10 ** digits
    return _minus(f"{value:.{digits}f}".rstrip("0").rstrip("."))


def fixed(x: Any, decimals: int = 3) -> str:
    """Fixed decimals, for numbers read side by side (rates): −0.502, −0.047, 0.000 (never −0.000,
    never 8.3 × 10⁻¹⁹ for a rate that is 0 to the precision shown)."""
    if _missing(x) or isinstance(x, str):
        return fmt(x)
    text = f"{float(x):.{decimals}f}"
    return _minus("0." + "0" * decimals if float(text) == 0 else text)


def keep_formulas(text: Any) -> Markup:
    """No-break spaces around =, <, ≤, ... between two terms, so that a heading never breaks a
    formula such as "g = 1" after its "=" (text is escaped first unless already markup)."""
    escaped = text if isinstance(text, Markup) else Markup.escape(str(text))
    return Markup(re.sub(r"(\S+) (=|≠|&lt;|&gt;|≤|≥|≈|∝) (?=\S)", "\\1\u00a0\\2\u00a0", str(escaped)))


# x_t, W_hh, σ_max, h_{t−1}, T_max: a subscript after a single letter (never inside a word such as a
# code name); ^(T−k), ^{…}, ^2, ^−3: a superscript. figures._LABEL_SCRIPT applies the same rule to figure labels.
_SUBSCRIPT = re.compile(r"(?<![\w.])([A-Za-zα-ωΑ-Ω])_(\{[^{}]+\}|\([^()]+\)|[A-Za-z0-9]+)")
_SUPERSCRIPT = re.compile(r"\^(\{[^{}]+\}|\([^()]+\)|[−-]?[A-Za-z0-9.]*[A-Za-z0-9])")


def _script(tag: str):
    def one(match: re.Match) -> str:
        body = match.group(match.lastindex)
        if body[0] in "({" and body[-1] in ")}":
            body = body[1:-1]
        base = match.group(1) if tag == "sub" else ""
        return f"{base}<{tag}>{body}</{tag}>"
    return one


_E_NOTATION = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)e([+\-−]?)0*(\d+)(?![\w.])")  # 1e-06, 3.1e−15


def _power_of_ten(match: re.Match) -> str:
    mantissa, sign, exponent = match.groups()
    power = f"10<sup>{'−' if sign in '-−' else ''}{exponent}</sup>"
    return power if mantissa in ("1", "1.0") else f"{mantissa}\u202f×\u202f{power}"


def typeset(text: Any) -> Markup:
    """ASCII notation from the findings' texts typeset as the report's equations write it:
    'σ_max(W_hh)' -> σ<sub>max</sub>(W<sub>hh</sub>), '(γ·σ_max)^(T−k)' -> (γ·σ<sub>max</sub>)<sup>T−k</sup>,
    '1e-06' -> 10<sup>−6</sup>.
    Text is escaped first unless already markup."""
    escaped = str(text if isinstance(text, Markup) else Markup.escape(str(text)))
    escaped = _E_NOTATION.sub(_power_of_ten, escaped)  # 1e-06 -> 10<sup>−6</sup>, as fmt writes powers
    return Markup(_SUPERSCRIPT.sub(_script("sup"), _SUBSCRIPT.sub(_script("sub"), escaped)))


def _prose(text: Any, numbers: dict[str, int]) -> Markup:
    escaped = text if isinstance(text, Markup) else Markup.escape(str(text))
    named = re.sub(r"(?:&#39;|'|‘)([a-z][a-z0-9_]*)(?:&#39;|'|’)",
                   lambda m: f"E{numbers[m.group(1)]}" if m.group(1) in numbers else m.group(0), str(escaped))
    return keep_formulas(typeset(Markup(named)))


def _prose_filter(numbers: dict[str, int]):
    """The filter for a text a finding or figure brings from Python: an experiment's code name in
    quotes ('init') becomes its number in the experiment table (E3), as the prose names experiments
    (code names stay for the appendix and the commands); ASCII notation is typeset; formulas keep
    together (keep_formulas)."""
    return lambda text: _prose(text, numbers)


@jinja2.pass_environment
def _finalize(env: jinja2.Environment, value: Any) -> Any:
    """Every plain string a template prints ({{ j.label }}, a finding's words) goes through `prose`;
    markup (numbers from fmt, figures, equations, what a filter already made) is printed as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _prose(value, env.globals.get("experiment_numbers", {}))
    return value


def state_word(state) -> str:
    """A part's three-way state as the prose names it: holds, refuted or undetermined."""
    return "holds" if state is True else "refuted" if state is False else "undetermined"


def verdict_class(verdict: str) -> str:
    """'partly refuted' -> 'partly-refuted' (a CSS class)."""
    return re.sub(r"[^a-z]+", "-", str(verdict).lower()).strip("-")


def verdict_words(words) -> tuple:
    """say_verdict's words, refused unless each is a verdict or a check state: a misspelt or
    retired word would otherwise hide its sentence in every build."""
    from .schema import REPORT_VERDICTS
    unknown = [w for w in words if w not in REPORT_VERDICTS]
    if unknown:
        raise ValueError(f"unknown verdict {', '.join(map(repr, unknown))}: say_verdict takes {', '.join(REPORT_VERDICTS)}")
    return tuple(words)


# ---------------------------------------------------------------- inline SVG

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
    from .figures import tidy_svg
    return str(_inline_svg(tidy_svg(buffer.getvalue()), f"eq-{name}-", spoken))


@lru_cache(maxsize=8)
def _diagram_svg(name: str) -> str:
    from .figures import DIAGRAMS
    if name not in DIAGRAMS:
        raise KeyError(f"unknown diagram {name!r}; known: {', '.join(DIAGRAMS)}")
    return DIAGRAMS[name]()


def diagram(name: str, alt: str) -> Markup:
    """A drawing of the model (figures.DIAGRAMS[name]) as an accessible inline SVG; the template
    gives its alt text and caption."""
    return _inline_svg(_diagram_svg(name), f"dg-{name}-", alt)


# ---------------------------------------------------------------- environment

class ReportTemplateError(Exception):
    """A template cannot be used: a syntax or runtime error, a sandbox violation, a link out of
    its folder or a reference outside the page. The message is one line naming the template and line."""


def template_files(folder: Path | str) -> list[Path]:
    """The regular files under a templates folder (what the build hashes). A symbolic link or
    anything else that is not a plain file or folder is refused: a template must not be able to
    read /etc/passwd into the report, and a named pipe would hang the build."""
    folder = Path(folder)
    found = []
    for here, dirs, files in os.walk(folder):  # followlinks=False: a linked folder is listed, not entered
        for name in sorted(dirs + files):
            path = Path(here) / name
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink():
                raise ReportTemplateError(f"--templates {folder}: {relative} is a symbolic link (to "
                                          f"{os.readlink(path)}); templates must be plain files inside the folder")
            if name in files:
                if not path.is_file():
                    raise ReportTemplateError(f"--templates {folder}: {relative} is not a regular file")
                found.append(path)
    return sorted(found)


class _FolderLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that serves only plain files inside its folder: a template that is a
    symbolic link, or lies under one, or resolves outside the folder, is refused. Remembers the
    source of every template it served, to find the line behind a refused reference."""

    def __init__(self, folder: Path, label: str):
        super().__init__(str(folder))
        self.folder, self.label = Path(folder), label
        self.loaded: dict[str, str] = {}  # file name -> source

    def get_source(self, environment, template):
        pieces = jinja2.loaders.split_template_path(template)
        path = self.folder
        for piece in pieces:
            path = path / piece
            if path.is_symlink():
                raise ReportTemplateError(
                    f"{self.label}: {path.relative_to(self.folder).as_posix()} is a symbolic link (to "
                    f"{os.readlink(path)}); templates must be plain files inside the folder")
        if path.exists():
            if not path.resolve().is_relative_to(self.folder.resolve()):
                raise ReportTemplateError(f"{self.label}: {template} resolves outside the folder")
            if not path.is_file() and not path.is_dir():
                raise ReportTemplateError(f"{self.label}: {template} is not a regular file")
        source, filename, uptodate = super().get_source(environment, template)
        self.loaded[filename] = source
        return source, filename, uptodate


class _ProseLoader(_FolderLoader):
    """The shipped prose of each finding: findings/<ID>.html.j2 is <id>_<name>/prose.html.j2 in
    the finding's folder (vgreport/findings/), with _FolderLoader's rules."""

    def __init__(self):
        from . import findings
        folder = Path(findings.__file__).resolve().parent
        super().__init__(folder, "shipped findings")
        self.names = {f"findings/{rid}.html.j2": path.relative_to(folder).as_posix()
                      for rid, path in findings.prose_templates().items()}

    def get_source(self, environment, template):
        if template not in self.names:
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, self.names[template])


_MAX_RESULT = 10_000_000  # characters or items of one `*`, and bits of one `**`, in a template


class _Sandbox(jinja2.sandbox.SandboxedEnvironment):
    """jinja2's sandbox, narrowed further. Attributes are read only from plain data (strings,
    numbers, dicts, lists, dates, markup, jinja's own helpers) and from vgreport's own objects:
    their fields, properties and methods, not those they inherit from pydantic. Paths, modules,
    numpy and pandas objects expose none, since their methods read and write files
    (Path.write_text, ndarray.tofile). `*` and `**` may not build results of gigabytes."""

    intercepted_binops = frozenset(("*", "**"))
    _PLAIN = frozenset(("builtins", "jinja2", "markupsafe", "datetime"))

    def is_safe_attribute(self, obj, attr, value):
        if not super().is_safe_attribute(obj, attr, value) or isinstance(obj, types.ModuleType):
            return False
        kind = type(obj)
        package = kind.__module__.partition(".")[0]
        if package in self._PLAIN:
            return True
        if package == "vgreport":
            return attr in getattr(obj, "__dict__", {}) or any(
                attr in vars(k) for k in kind.__mro__ if k.__module__.startswith("vgreport"))
        return False

    def unsafe_undefined(self, obj, attribute):
        """An unsafe attribute is an error at once, not an Undefined that could print as nothing."""
        raise jinja2.sandbox.SecurityError(f"access to attribute {attribute!r} of a {type(obj).__name__} "
                                           f"object is not allowed in a template")

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > _MAX_RESULT:
                    raise jinja2.sandbox.SecurityError(f"{len(seq):,} x {times:,} is too large a result")
        if (operator == "**" and isinstance(left, int) and isinstance(right, int)
                and abs(left) > 1 and right * max(abs(left), 2).bit_length() > _MAX_RESULT):
            raise jinja2.sandbox.SecurityError(f"{left} ** {right} is too large a result")
        return super().call_binop(context, operator, left, right)


def make_environment(templates_dir: Path | str | None = None) -> jinja2.Environment:
    """Sandboxed, autoescaping jinja2 environment: the user's templates_dir first (any file there
    overrides the shipped one of the same name), then the shipped templates; filters fmt, pct, ci."""
    loaders = [_FolderLoader(Path(templates_dir), f"--templates {templates_dir}")] if templates_dir else []
    loaders += [_ProseLoader(), _FolderLoader(shipped_templates_dir(), "shipped templates")]
    # StrictUndefined: a mistyped name fails the build instead of printing "n/a".
    env = _Sandbox(loader=jinja2.ChoiceLoader(loaders), autoescape=True, finalize=_finalize,
                   undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(fmt=fmt, pct=pct, ci=ci, floor=floor, fixed=fixed, verdict_class=verdict_class, state_word=state_word,
                       keep_formulas=keep_formulas, typeset=typeset, prose=_prose_filter({}))
    env.tests["known"] = lambda x: not _missing(x)  # `is not none` would let NaN through
    env.globals.update(variant_models=variant_models, varying_fields=varying_fields, battery_defaults=battery_defaults,
                       number_rows=number_rows, spell=spell, verdict_words=verdict_words,
                       has_template=lambda name: _has_template(env, name))
    return env


def _template_name(env: jinja2.Environment, filename: str) -> str | None:
    """'summary.html.j2 (from --templates t)' for a file one of env's loaders serves, else None."""
    for loader in env.loader.loaders:
        try:
            relative = Path(filename).resolve().relative_to(loader.folder.resolve()).as_posix()
        except ValueError:
            continue
        return f"{relative} ({'from ' + loader.label if loader.label.startswith('--') else 'shipped'})"
    return None


def _template_error(env: jinja2.Environment, exc: Exception) -> ReportTemplateError | None:
    """The one-line error for an exception raised while rendering, named by the innermost
    template frame of its traceback (jinja2 rewrites tracebacks so that frames show template
    lines); None when no template is involved (a bug in vgreport's own code)."""
    if isinstance(exc, ReportTemplateError):
        return exc
    if isinstance(exc, jinja2.TemplateSyntaxError):
        name = _template_name(env, exc.filename or "") or exc.name or "template"
        return ReportTemplateError(f"template {name}, line {exc.lineno}: {exc.message}")
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = _template_name(env, frame.filename)
        if name is not None:
            text = str(exc).splitlines()[0] if str(exc) else ""
            kind = "sandbox" if isinstance(exc, jinja2.sandbox.SecurityError) else type(exc).__name__
            return ReportTemplateError(f"template {name}, line {frame.lineno}: {kind}: {text}".rstrip(": "))
    return None


def _has_template(env: jinja2.Environment, name: str) -> bool:
    try:
        env.get_template(name)
    except jinja2.TemplateNotFound:
        return False
    return True


def spell(n: int) -> str:
    """Small counts in words, as prose wants them: 3 -> 'three'; 13 -> '13'."""
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
    return words[n] if 0 <= n < len(words) else fmt(n)


_VARIANT_FIELDS = (("train", "clip"), ("train", "lr"), ("train", "optimizer"), ("train", "steps"),
                   ("train", "batch"), ("task", "lag"))


def _first_cells(experiment) -> dict:
    first = {}
    for cell in experiment.cells():
        first.setdefault(cell.variant, cell)
    return first


def varying_fields(experiment) -> list[str]:
    """The training and task fields ('train.clip', 'task.lag', ...) that differ between an
    experiment's variants: the appendix states them per model instead of once."""
    cells = list(_first_cells(experiment).values())
    return [f"{section}.{name}" for section, name in _VARIANT_FIELDS
            if len({getattr(getattr(c, section), name) for c in cells}) > 1]


_COMMON = (("model", "hidden"), ("train", "batch"), ("train", "eval_size"), ("probe", "batch"))


def battery_defaults(experiments) -> dict[str, Any]:
    """The value most experiments share for each field of _COMMON ('train.batch' -> 64): the
    experiment table states these once and, per experiment, only what differs."""
    out = {}
    for section, name in _COMMON:
        values = [getattr(getattr(e, section), name) for e in experiments]
        if values:
            out[f"{section}.{name}"] = max(sorted(set(values), key=str), key=values.count)
    return out


def _field_text(path: str, value) -> str:
    if path == "train.clip":
        return "no clipping" if value is None else f"clipped at {fmt(value)}"
    if path == "task.lag":
        return "the first token" if value is None else f"the token {value} steps back"
    return {"train.lr": f"learning rate {fmt(value)}", "train.optimizer": "plain SGD" if value == "sgd" else "Adam",
            "train.steps": f"{fmt(value)} steps", "train.batch": f"batch {value}"}[path]


def variant_models(experiment) -> list[dict]:
    """One entry per variant of an experiment: its name, its model with the initialisation stated
    and what else sets it apart (e.g. 'no clipping'), so that no two entries read the same."""
    varying = varying_fields(experiment)
    out = []
    for variant, cell in _first_cells(experiment).items():
        width = "" if cell.model.hidden == experiment.model.hidden else f", width {cell.model.hidden}"
        changes = [_field_text(path, getattr(getattr(cell, path.split(".")[0]), path.split(".")[1]))
                   for path in varying]
        out.append({"variant": variant, "model": cell.model.describe() + width, "changes": ", ".join(changes)})
    return out


def number_rows(values: dict, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """A finding's numbers flattened to (name, value) rows for the generic numbers table: nested
    dicts become 'outer · inner'; lists of plain values stay one row; deeper structures are skipped."""
    rows = []
    for key, value in values.items():
        name = f"{prefix}{str(key).replace('_', ' ')}"
        if isinstance(value, dict):
            if depth < 2:
                rows.extend(number_rows(value, f"{name} · ", depth + 1))
        elif isinstance(value, (list, tuple)):
            if all(not isinstance(v, (dict, list, tuple)) for v in value):
                rows.append((name, list(value)))
        else:
            rows.append((name, value))
    return rows


class _Figures:
    """Figure numbers, known before the figures are placed so that prose can cite a figure before it
    appears (`fignum`). Numbered in the order of `order` (the order in which a first rendering placed
    them), else by result and then by each result's list; remembers what a body has placed."""

    def __init__(self, results: Sequence[Result], env: jinja2.Environment, order: Sequence[tuple] = ()):
        self.env = env
        self.figures: dict[tuple[str, str], Any] = {(r.id, fig.key): fig for r in results for fig in r.figures}
        self.numbers: dict[tuple[str, str], int] = {}
        for key in list(order) + list(self.figures):
            if key in self.figures:
                self.numbers.setdefault(key, len(self.numbers) + 1)
        self.placed: dict[tuple[str, str], int] = {}
        self.sequence: list[tuple[str, str]] = []   # first placement of each figure, in page order

    def _find(self, f, key: str):
        fig = self.figures.get((f.id, key))
        if fig is None:
            raise KeyError(f"finding {f.id} has no figure {key!r} (it has: {', '.join(f.figure_keys) or 'none'}); "
                           f"guard the template with {{% if {key!r} in f.figure_keys %}}")
        return fig

    def number(self, f, key: str) -> int:
        self._find(f, key)
        return self.numbers[(f.id, key)]

    def render(self, f, key: str, caption: str | None = None) -> Markup:
        """The figure with its number and caption (its own, or `caption`: markup the template wrote)."""
        fig = self._find(f, key)
        copies = self.placed.get((f.id, key), 0)
        self.placed[(f.id, key)] = copies + 1
        if not copies:
            self.sequence.append((f.id, key))
        anchor = f"fig-{f.id}-{key}" + (f"-{copies + 1}" if copies else "")
        # a short id prefix: every clip path and marker of the figure repeats it
        prefix = f"n{self.numbers[(f.id, key)]}" + (f"c{copies + 1}" if copies else "") + "-"
        svg = _inline_svg(fig.svg, prefix, fig.alt or fig.caption)
        return Markup(self.env.get_template("figure.html.j2").render(
            fig=fig, n=self.numbers[(f.id, key)], anchor=anchor, svg=svg, caption=caption or fig.caption))

    def unplaced(self, f) -> list[str]:
        """Keys of the finding's figures its body did not show (appended after it, never lost)."""
        return [fig.key for fig in f.figures if (f.id, fig.key) not in self.placed]


class _Citations:
    """`cite(key)` in a template: the author–year text of a reference of literature.REFERENCES,
    linked to its entry, and remembered, so that the reference list shows exactly what was cited."""

    def __init__(self, references: dict[str, str]):
        self.references = references
        self.cited: list[str] = []

    def cite(self, key: str, text: str | None = None) -> Markup:
        if key not in self.references:
            raise KeyError(f"unknown reference {key!r}; known: {', '.join(self.references)}")
        if key not in self.cited:
            self.cited.append(key)
        return Markup('<a class="cite" href="#ref-{}">{}</a>').format(key, text or author_year(self.references[key]))

    def listed(self) -> list[dict]:
        """The cited references in the order of their first authors' surnames, then years."""
        rows = [{"key": k, "text": self.references[k], "short": author_year(self.references[k])} for k in self.cited]
        return sorted(rows, key=lambda r: (r["short"].lower(), r["key"]))


def author_year(reference: str) -> str:
    """'R. Pascanu, T. Mikolov, Y. Bengio. On the difficulty ... ICML 2013.' -> 'Pascanu et al. 2013'
    (two authors: 'Tallec & Ollivier 2018'). The authors are what precedes the first full stop that
    ends a surname; the year is the last one in the entry."""
    authors = re.split(r"(?<=[a-z\u00c0-\u024f])\. ", reference, maxsplit=1)[0]
    surnames = [a.split()[-1] for a in authors.split(", ")]
    year = re.findall(r"\b(?:19|20)\d\d\b", reference)[-1]
    if len(surnames) == 1:
        names = surnames[0]
    elif len(surnames) == 2:
        names = f"{surnames[0]} & {surnames[1]}"
    else:
        names = f"{surnames[0]} et al."
    return f"{names} {year}"


def _math_factory():
    uses: dict[str, int] = {}

    def math_(name: str) -> Markup:
        if name not in EQUATIONS:
            raise KeyError(f"unknown equation {name!r}; known: {', '.join(EQUATIONS)}")
        uses[name] = uses.get(name, 0) + 1
        svg = equation_svg(name)
        if uses[name] > 1:  # the same equation twice in one page: each copy its own ids
            svg = _prefix_ids(svg, f"c{uses[name]}-")
        return Markup('<span class="math">') + Markup(svg) + Markup("</span>")
    return math_


def tested_by(evaluation: Evaluation) -> dict[str, list[str]]:
    """Experiment name -> the ids of the checks and findings that read it (from their declarations)."""
    from .findings import MODULES
    out: dict[str, list[str]] = {}
    for module in MODULES:
        for experiment in module.SPEC.needs:
            out.setdefault(experiment, []).append(module.SPEC.id)
    return out


def _rules(context: ReportContext) -> dict:
    """The thresholds the glossary states, from the code that applies them."""
    from .findings.stats import ALPHA
    from .findings.tables import ADDING_FAILED, ADDING_LEARNED, CHANCE_MARGIN, MOST
    return {"chance_margin": CHANCE_MARGIN, "most": MOST, "adding_learned": ADDING_LEARNED,
            "adding_failed": ADDING_FAILED, "alpha": ALPHA,
            "looks": max((e.looks for e in context.experiments), default=1)}


def render_html(evaluation: Evaluation, context: ReportContext, templates_dir: Path | str | None = None,
                env: jinja2.Environment | None = None) -> str:
    """The whole report as one self-contained HTML page (CSS, figures and equations inline).
    A template's mistake raises ReportTemplateError naming the template and line. `env` is
    make_environment(templates_dir) when the caller needs it afterwards (render_report does).

    Rendered twice when the first pass placed the figures in another order than it numbered them,
    so that figures are numbered in the order they appear."""
    if context.paper not in PAPERS:
        raise ValueError(f"paper {context.paper!r}: choose one of {', '.join(PAPERS)}")
    if context.edition not in EDITIONS:
        raise ValueError(f"edition {context.edition!r}: choose one of {', '.join(EDITIONS)}")
    env = env or make_environment(templates_dir)
    findings, checks = list(evaluation.findings), list(evaluation.checks)
    numbers = {e.name: i for i, e in enumerate(context.experiments, 1)}
    # an evaluation made without figures (evaluate(with_figures=False)) gets no overview figure either
    from . import teaching
    glance = teaching.overview(evaluation, with_figure=any(r.figures for r in evaluation.results))
    from .schema import SUPPORT, VERDICTS as verdicts
    groups = {v: [f for f in findings if f.verdict == v] for v in verdicts}
    env.filters.update(prose=_prose_filter(numbers))
    values = dict(findings=findings, checks=checks, literature=evaluation.literature, groups=groups,
                  verdicts=verdicts, present=[v for v in verdicts if groups[v]], tested_by=tested_by(evaluation),
                  supported=[f for f in findings if f.verdict in SUPPORT],
                  attachments=[Path(p).name for p in context.attachments if Path(p).is_file()], ctx=context,
                  overview=glance, worked=teaching.worked_example(evaluation),
                  by_id={r.id: r for r in evaluation.results}, rules=_rules(context))
    order: list = []
    for _ in range(2):
        figures = _Figures([glance] + checks + findings, env, order)
        citations = _Citations(evaluation.literature.references)
        env.globals.update(figure=figures.render, fignum=figures.number, unplaced_figures=figures.unplaced,
                           math=_math_factory(), diagram=diagram, instructor=context.edition == "instructor",
                           experiment_numbers=numbers, cite=citations.cite, cited_references=citations.listed)
        try:
            css = Markup(env.get_template("report.css").render(ctx=context, page_size=PAPERS[context.paper]))
            page = env.get_template("report.html.j2").render(css=css, **values)
        except Exception as exc:  # never KeyboardInterrupt: that is no template's mistake
            error = _template_error(env, exc)
            if error is None:
                raise
            raise error from exc
        if [figures.numbers[k] for k in figures.sequence] == sorted(figures.numbers[k] for k in figures.sequence):
            break
        order = figures.sequence
    return page


# ---------------------------------------------------------------- the self-contained check

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


def render_report(evaluation: Evaluation, context: ReportContext, out_dir: Path | str,
                  formats: Sequence[str] = FORMATS, templates_dir: Path | str | None = None) -> dict[str, Path]:
    """Write report.html and/or report.pdf into out_dir, each atomically; returns {format: path}.
    A template's mistake, or a page that references anything outside itself, raises
    ReportTemplateError (one line naming the template and line) and writes nothing."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"format {unknown[0]!r}: choose from {', '.join(FORMATS)}")
    env = make_environment(templates_dir)
    page = render_html(evaluation, context, templates_dir, env)
    leaks = _references(page)
    if leaks:
        description, needle, line = leaks[0]
        more = f" (and {len(leaks) - 1} more)" if len(leaks) > 1 else ""
        raise ReportTemplateError(f"{_where(env, needle, line)}: the report must be one self-contained file, "
                                  f"but it references {description[:120]!r}{more}")
    written: dict[str, Path] = {}
    if "html" in formats:
        path = Path(out_dir) / "report.html"
        write_atomic(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
        written["html"] = path
    if "pdf" in formats:
        path = Path(out_dir) / "report.pdf"
        write_atomic(path, lambda tmp: _write_pdf(page, context, str(tmp)))
        written["pdf"] = path
    return written


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _write_pdf(page: str, context: ReportContext, target: str) -> None:
    import weasyprint

    date = (context.date or _EPOCH).astimezone(timezone.utc)
    # Attachment dates default to the file times or now(): pin them to the measurement date.
    attachments = [weasyprint.Attachment(filename=str(p), name=Path(p).name, created=date, modified=date,
                                         description=f"{Path(p).name}: the data of this report "
                                                     f"(vgreport, profile {context.profile})")
                   for p in context.attachments if Path(p).is_file()]
    # Without libharfbuzz-subset, WeasyPrint subsets fonts with fontTools, which stamps each font
    # with the current time unless SOURCE_DATE_EPOCH is set: pin it to the measurement date.
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(date.timestamp()))
    try:
        # No fetch is legitimate (the page is self-contained); any attempt stops the rendering.
        fetcher = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
        weasyprint.HTML(string=page, base_url=None, url_fetcher=fetcher).write_pdf(
            target, attachments=attachments, pdf_variant=PDF_VARIANT,
            pdf_identifier=True)  # an /ID that is the MD5 of the content: reproducible
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
