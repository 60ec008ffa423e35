"""The whole report as one page: render_html (templates, figures numbered by placement, citations,
equations) and render_report (report.html and report.pdf, each written atomically).

Templates hold words and layout; numbers arrive through the filters `fmt`, `pct` and `ci`.
Identical inputs give byte-identical files: no clock is read here (the report's date is the time
of the newest measurement, passed in), SVG ids depend only on content, equations are drawn by
matplotlib's mathtext with a fixed style, and the PDF's dates, attachment dates, font time stamps
and file identifier are all derived from the inputs.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import jinja2
from markupsafe import Markup, escape

from ..store import write_atomic
from . import EDITIONS, FORMATS, PAGE_SIZES, bounds
from .context import ReportContext
from .environment import ReportTemplateError, _prose_filter, _template_error, make_environment
from .pdf import _write_pdf
from .selfcontained import _references, _where
from .svg import EQUATIONS, _inline_svg, _prefix_ids, diagram, equation_svg, layout

if TYPE_CHECKING:  # the figures and findings stacks load only when a report is rendered, never for
    from ..findings import Evaluation, Result  # the template listing an unchanged rebuild hashes

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
        # the narrow layout too, where it differs: the page's style shows one of the two (phone or wider)
        if fig.narrow and fig.narrow != fig.svg:
            svg = Markup("").join((layout(svg, "wide"),
                                   layout(_inline_svg(fig.narrow, prefix + "s", fig.alt or fig.caption), "narrow")))
        return Markup(self.env.get_template("figure.html.j2").render(
            fig=fig, n=self.numbers[(f.id, key)], anchor=anchor, svg=svg, caption=caption or fig.caption))

    def caption(self, f, key: str) -> str:
        """The figure's caption, for a line that names a figure the page does not print."""
        return self._find(f, key).caption

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
    """Experiment name -> the ids of the checks and findings that read it (from their declarations), and
    "Appendix D" for one that only the literature comparison reads."""
    from ..findings import MODULES
    from ..findings.literature import READS
    out: dict[str, list[str]] = {}
    for module in MODULES:
        for experiment in module.SPEC.needs:
            out.setdefault(experiment, []).append(module.SPEC.id)
    for experiment in READS:
        out.setdefault(experiment, []).append("Appendix D")
    return out


def _quick_profile() -> str:
    """What the exercises' quick profile runs, from the shipped profiles.yaml (its description's first
    sentence after its colon: "two seeds, 30% of the training budget, ..."), for the cover's line on the
    printed commands."""
    from ..specs import _read_profiles, default_experiments_dir
    description = _read_profiles(default_experiments_dir() / "profiles.yaml")["quick"].description
    return description.split(". ")[0].split(": ", 1)[-1].rstrip(".")


def _rules(context: ReportContext) -> dict:
    """The thresholds the glossary states, from the code that applies them."""
    from ..findings.stats import ALPHA, look_level, wilson
    from ..findings.tables import ADDING_CHANCE, ADDING_SOLVED, CHANCE_MARGIN, MOST, SOLVED
    rounds = max((tuple(e.seed_rounds) for e in context.experiments), key=len, default=())
    level = look_level(rounds or 1)
    # the fewest seeds that decide "most seeds" when all agree, at the level of each look
    unanimous = next(n for n in range(2, 1000) if wilson(n, n, level)[0] > MOST)
    return {"chance_margin": CHANCE_MARGIN, "most": MOST, "solved": SOLVED, "adding_solved": ADDING_SOLVED,
            "adding_chance": ADDING_CHANCE, "alpha": ALPHA, "looks": max(1, len(rounds)), "rounds": list(rounds),
            "unanimous": unanimous, "look_level": level}


def render_html(evaluation: Evaluation, context: ReportContext, templates_dir: Path | str | None = None,
                env: jinja2.Environment | None = None, block: str | None = None) -> str:
    """The whole report as one self-contained HTML page (CSS, figures and equations inline).
    A template's mistake raises ReportTemplateError naming the template and line. `env` is
    make_environment(templates_dir) when the caller needs it afterwards (render_report does).
    `block` renders only that block of report.html.j2 ("findings": the sections of the findings in
    `evaluation`, as the page shows them), for tests that read one finding's section.

    Rendered twice when the first pass placed the figures in another order than it numbered them,
    so that figures are numbered in the order they appear."""
    if context.paper not in PAGE_SIZES:
        raise ValueError(f"paper {context.paper!r}: choose one of {', '.join(PAGE_SIZES)}")
    if context.edition not in EDITIONS:
        raise ValueError(f"edition {context.edition!r}: choose one of {', '.join(EDITIONS)}")
    env = env or make_environment(templates_dir)
    findings, checks = list(evaluation.findings), list(evaluation.checks)
    numbers = {e.name: i for i, e in enumerate(context.experiments, 1)}
    # an evaluation made without figures (evaluate(with_figures=False)) gets no overview figure either
    from . import dynamics, teaching
    drawn = any(r.figures for r in evaluation.results)
    glance = teaching.overview(evaluation, with_figure=drawn)
    dyn = dynamics.dynamics(evaluation, with_figure=drawn)
    from ..verdicts import SUPPORT
    from ..verdicts import VERDICTS as verdicts
    groups = {v: [f for f in findings if f.verdict == v] for v in verdicts}
    env.filters.update(prose=_prose_filter(numbers))
    values = dict(findings=findings, checks=checks, literature=evaluation.literature, groups=groups,
                  verdicts=verdicts, present=[v for v in verdicts if groups[v]], tested_by=tested_by(evaluation),
                  supported=[f for f in findings if f.verdict in SUPPORT],
                  attachments=[Path(p).name for p in context.attachments if Path(p).is_file()], ctx=context,
                  overview=glance, worked=teaching.worked_example(evaluation), dyn=dyn,
                  snippet=escape(dynamics.SNIPPET), exercise=dynamics.exercise_answer(),
                  by_id={r.id: r for r in evaluation.results}, rules=_rules(context), quick=_quick_profile())
    order: list = []
    try:
        with bounds.budget(env):  # time, memory, range() and lipsum() of both passes together
            page = _render_passes(env, context, values, glance, checks, findings, evaluation, numbers, order, block)
    except bounds.TemplateLimitError as exc:  # spent where no template line could take the blame
        raise ReportTemplateError(f"templates: {exc}") from exc
    # A chosen sentence (say, say_verdict) brings a space on either side; before punctuation it is one too many.
    return _scrolling_tables(_SPACE_BEFORE_PUNCTUATION.sub("", page))


def _render_passes(env, context, values, glance, checks, findings, evaluation, numbers, order,
                   block: str | None) -> str:
    """The page, rendered a second time when the figures were placed out of their numbered order."""
    dyn = values["dyn"]
    for _ in range(2):
        # a template imported by another keeps the globals of the pass that loaded it (cite, figure):
        # each pass starts from freshly loaded templates, so citations and figures count in this one
        if env.cache is not None:
            env.cache.clear()
        figures = _Figures([glance] + ([dyn] if dyn else []) + checks + findings, env, order)
        citations = _Citations(evaluation.literature.references)
        env.globals.update(figure=figures.render, fignum=figures.number, unplaced_figures=figures.unplaced,
                           figure_caption=figures.caption,
                           math=_math_factory(), diagram=diagram, instructor=context.edition == "instructor",
                           experiment_numbers=numbers, cite=citations.cite, cited_references=citations.listed)
        try:
            css = Markup(bounds.render_page(env.get_template("report.css"),
                                            dict(ctx=context, page_size=PAGE_SIZES[context.paper])))
            page = bounds.render_page(env.get_template("report.html.j2"), dict(css=css, **values), block)
        except Exception as exc:  # never KeyboardInterrupt: that is no template's mistake
            error = _template_error(env, exc)
            if error is None:
                raise
            raise error from exc
        if [figures.numbers[k] for k in figures.sequence] == sorted(figures.numbers[k] for k in figures.sequence):
            break
        order = figures.sequence
    return page


_SPACE_BEFORE_PUNCTUATION = re.compile(r'(?<=</span>) +(?=[;,.:)])')
_TABLE = re.compile(r"<table\b[^>]*>.*?</table>", re.S)


def _scrolling_tables(page: str) -> str:
    """Every table in a box that scrolls sideways on a screen too narrow for it (report.css), reachable
    by keyboard (tabindex) and named for screen readers by the table's caption, its label or its
    column (else row) heads, each name once in the page. A table keeps its table semantics (a table
    set display: block loses them)."""
    names: dict[str, int] = {}

    def wrap(match: re.Match) -> str:
        table = match.group(0)
        caption = re.search(r"<caption\b[^>]*>(.*?)</caption>", table, re.S)
        label = re.match(r'<table\b[^>]*\saria-label="([^"]*)"', table)
        heads = (re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table, re.S)
                 or re.findall(r'<th scope="row"[^>]*>(.*?)</th>', table, re.S))
        if caption:
            name = _plain(caption.group(1))
        elif label:
            name = html.unescape(label.group(1))
        else:
            name = "Table: " + "; ".join(_plain(h) for h in heads) if heads else "Table"
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:
            name += f" ({names[name]})"
        return (f'<div class="table-box" role="region" tabindex="0" aria-label="{html.escape(name, quote=True)}">'
                f"{table}</div>")
    return _TABLE.sub(wrap, page)


def _plain(markup: str) -> str:
    """The words of a bit of markup, on one line."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())



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
