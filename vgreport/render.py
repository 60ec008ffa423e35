"""Stage 10: the document. Findings and figures -> report.html (jinja2) and report.pdf (WeasyPrint).

Templates hold words and layout; numbers arrive through the filters `fmt`, `pct` and `ci`.
The same inputs give byte-identical files: no clock is read here (the date is the time of the
newest measurement, passed in), figure ids are salted per figure, and PDF attachments carry
that same date.
"""
from __future__ import annotations

import html
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import jinja2
from markupsafe import Markup

from .findings import Finding

__all__ = ["ReportContext", "render_report", "render_html", "make_environment", "shipped_templates_dir",
           "EQUATIONS"]

# name -> (mathtext, plain-text reading for screen readers and alt text)
EQUATIONS = {
    "bptt_product": (r"\frac{\partial h_T}{\partial h_k} = \prod_{j=k+1}^{T} \mathrm{diag}(f\,'(a_j))\, W_{hh}",
                     "dh_T/dh_k equals the product over j from k+1 to T of diag(f'(a_j)) times W_hh"),
    "pascanu_bound": (r"\left\Vert\frac{\partial h_T}{\partial h_k}\right\Vert \leq (\gamma\,\sigma_{\max}(W_{hh}))^{T-k}",
                      "the norm of dh_T/dh_k is at most (gamma times sigma_max of W_hh) to the power T-k"),
    "decay_law": (r"\log \Vert \partial L/\partial h_k \Vert \approx c + r\,(T-k)",
                  "log of the gradient norm at step k is about c plus r times (T-k)"),
    "linear_rnn_exact": (r"W_{hh} = g\,Q \;\Rightarrow\; \Vert \partial L/\partial h_k \Vert = g^{T-k}\, \Vert \partial L/\partial h_T \Vert",
                         "if W_hh = g Q with Q orthogonal, the gradient norm at step k is g^(T-k) times the norm at T"),
    "rnn_step": (r"h_t = f(a_t),\quad a_t = W_{hh} h_{t-1} + W_{xh} x_t + b",
                 "h_t = f(a_t), with a_t = W_hh h_(t-1) + W_xh x_t + b"),
    "gamma": (r"\gamma = \sup_a |f\,'(a)|:\quad \gamma_{\tanh} = 1,\ \gamma_{\mathrm{sigmoid}} = 1/4",
              "gamma is the largest derivative of f: 1 for tanh, 1/4 for sigmoid"),
    "lstm_cell": (r"c_t = \sigma(f_t) \odot c_{t-1} + \sigma(i_t) \odot \tanh(g_t)",
                  "c_t = sigmoid(f_t) times c_(t-1) plus sigmoid(i_t) times tanh(g_t)"),
    "chrono": (r"b_f \sim \log\,\mathcal{U}[1, T_{\max}-1],\quad b_i = -b_f",
               "forget bias drawn as log of uniform on 1 to T_max - 1, input bias its negative"),
}


@dataclass
class ReportContext:
    profile: str
    profile_description: str
    measured_at: str                      # ISO time of the newest measurement: the report's date
    versions: dict[str, str]
    compute_seconds: float
    n_cells: int
    seeds: list[int]
    experiments: list                     # vgreport.specs.Experiment
    paper: str = "a4"
    attachments: list[Path] = field(default_factory=list)
    only_axes: tuple = ()

    @property
    def date(self) -> datetime:
        try:
            return datetime.fromisoformat(self.measured_at)
        except (TypeError, ValueError):
            return datetime(1970, 1, 1, tzinfo=timezone.utc)


def shipped_templates_dir() -> Path:
    """templates/ inside an installed wheel, or at the top of the repository."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "report.html.j2").is_file():
            return candidate
    raise FileNotFoundError(f"cannot find the report templates next to {here}")


# ---------------------------------------------------------------- filters

def _missing(x) -> bool:
    return x is None or isinstance(x, jinja2.Undefined) or (isinstance(x, float) and not math.isfinite(x))


def fmt(x: Any, digits: int = 3) -> str:
    """A number with `digits` significant digits; integers stay whole; 'n/a' when missing."""
    if _missing(x):
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e6):
        return f"{int(x):,}".replace(",", "\u202f")
    if x == 0:
        return "0"
    if abs(x) < 1e-3 or abs(x) >= 1e6:
        mantissa, exponent = f"{x:.{max(digits - 1, 0)}e}".split("e")
        return Markup(f"{mantissa}\u202f×\u202f10<sup>{int(exponent)}</sup>")
    text = f"{x:.{digits}g}"
    if "e" in text:
        text = f"{x:.{max(digits - int(math.floor(math.log10(abs(x)))) - 1, 0)}f}"
    return text.replace("-", "−")


def pct(x: Any, digits: int = 0) -> str:
    return "n/a" if _missing(x) else f"{100 * x:.{digits}f}%"


def ci(pair: Any, digits: int = 3) -> str:
    """'[lo, hi]' from (lo, hi) or a dict with lo/hi; 'n/a' with one seed."""
    if isinstance(pair, dict):
        pair = (pair.get("lo"), pair.get("hi"))
    if pair is None or any(_missing(v) for v in pair):
        return "n/a (one seed)"
    return Markup(f"[{fmt(pair[0], digits)}, {fmt(pair[1], digits)}]")


def verdict_class(verdict: str) -> str:
    return re.sub(r"[^a-z]+", "-", verdict.lower()).strip("-")


@lru_cache(maxsize=None)
def _equation_svg(name: str) -> str:
    from .figures import equation
    tex, spoken = EQUATIONS[name]
    svg = equation(tex)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(spoken)}" ', 1)


def _math_factory():
    uses = {"n": 0}

    def math_(name: str) -> Markup:
        if name not in EQUATIONS:
            raise KeyError(f"unknown equation {name!r}; known: {', '.join(EQUATIONS)}")
        uses["n"] += 1  # the same equation may appear twice: each copy gets its own ids
        svg = _prefix_ids(_equation_svg(name), "eq%d-" % uses["n"])
        return Markup('<span class="math">' + svg + "</span>")
    return math_


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make every id in an inline SVG unique in the page (matplotlib reuses ids such as
    'line2d_1' and glyph names in every figure) and point the references at the new ids."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'(href=")#([^"]+)"', lambda m: f'{m.group(1)}#{prefix}{m.group(2)}"', svg)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)


def _with_alt(svg: str, alt: str) -> str:
    """Give an inline SVG its alt text: role=img, aria-label and a <title> child."""
    text = html.escape(alt)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{text}" ', 1)
    return re.sub(r"(<svg[^>]*>)", lambda m: m.group(1) + f"<title>{text}</title>", svg, count=1)


def make_environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """User templates first (override by file name), then the shipped ones."""
    loaders = [jinja2.FileSystemLoader(str(templates_dir))] if templates_dir else []
    loaders.append(jinja2.FileSystemLoader(str(shipped_templates_dir())))
    # ChainableUndefined: a number missing from a partial build prints "n/a" instead of crashing.
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True, undefined=jinja2.ChainableUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(fmt=fmt, pct=pct, ci=ci, verdict_class=verdict_class)
    env.globals.update(math=_math_factory(), variant_models=variant_models)
    return env


def variant_models(experiment) -> list[dict]:
    """One entry per variant of an experiment: its model named with its initialisation."""
    seen, out = set(), []
    for cell in experiment.cells():
        if cell.variant in seen:
            continue
        seen.add(cell.variant)
        width = "" if cell.model.hidden == experiment.model.hidden else f", width {cell.model.hidden}"
        out.append({"variant": cell.variant, "model": cell.model.describe() + width})
    return out


def render_html(findings: Sequence[Finding], context: ReportContext, templates_dir: Path | None = None) -> str:
    env = make_environment(templates_dir)
    numbers: dict[tuple[str, str], int] = {}
    for f in findings:
        for fig in f.figures:
            numbers[(f.id, fig.key)] = len(numbers) + 1

    def fignum(f: Finding, key: str) -> int:
        return numbers[(f.id, key)]

    def figure(f: Finding, key: str) -> Markup:
        fig = next(x for x in f.figures if x.key == key)
        n = numbers[(f.id, key)]
        return Markup(env.get_template("figure.html.j2").render(fig=fig, n=n, fid=f.id,
                                                                svg=Markup(_with_alt(_prefix_ids(fig.svg, f"{f.id}-{key}-"), fig.alt))))

    env.globals.update(figure=figure, fignum=fignum)
    counts = {v: sum(f.verdict == v for f in findings) for v in
              ("supported", "partly supported", "not supported", "inconclusive")}
    bodies = {f.id for f in findings if _has_template(env, f"findings/{f.id}.html.j2")}
    return env.get_template("report.html.j2").render(
        findings=findings, ctx=context, counts=counts, bodies=bodies, css=Markup(env.get_template("report.css").render(ctx=context)),
        claims=[f for f in findings if f.id.startswith("C")], extras=[f for f in findings if not f.id.startswith("C")])


def _has_template(env: jinja2.Environment, name: str) -> bool:
    try:
        env.get_template(name)
        return True
    except jinja2.TemplateNotFound:
        return False


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a report is meant to be read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_report(findings: Sequence[Finding], context: ReportContext, out_dir: Path,
                  formats: Sequence[str] = ("html", "pdf"), templates_dir: Path | None = None) -> dict[str, Path]:
    """Write report.html and/or report.pdf into out_dir, each atomically."""
    page = render_html(findings, context, templates_dir)
    written: dict[str, Path] = {}
    if "html" in formats:
        path = Path(out_dir) / "report.html"
        _atomic(path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))
        written["html"] = path
    if "pdf" in formats:
        path = Path(out_dir) / "report.pdf"
        _atomic(path, lambda tmp: _write_pdf(page, context, tmp))
        written["pdf"] = path
    return written


def _write_pdf(page: str, context: ReportContext, target: str) -> None:
    import weasyprint

    date = context.date
    attachments = [weasyprint.Attachment(filename=str(p), name=p.name, created=date, modified=date,
                                         description=f"{p.name} of this build (profile {context.profile})")
                   for p in context.attachments if Path(p).is_file()]
    # fontTools stamps subset fonts with the current time unless SOURCE_DATE_EPOCH is set:
    # pin it to the measurement date so identical records give identical bytes.
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(date.timestamp()))
    try:
        # PDF/UA-1 tags the structure (headings, figures with alt text) for screen readers.
        weasyprint.HTML(string=page, base_url=None, url_fetcher=_refuse_fetch).write_pdf(
            target, attachments=attachments, pdf_variant="pdf/ua-1", pdf_identifier=False)
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def _refuse_fetch(url: str, *args, **kwargs):
    """The report is self-contained: any fetch is a bug, so fail loudly instead of reading it."""
    raise ValueError(f"the report must not reference external resources: {url}")
