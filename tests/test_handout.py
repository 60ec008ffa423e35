"""The handout an instructor hands out without editing: short, one experiment table, one reference
list, the story at a glance after the cover, one notation, two editions.

One render of the synthetic world (every finding decided, every figure drawn), shaped like the
standard build's report, serves most tests."""
from __future__ import annotations

import dataclasses
import html
import json
import math
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from vgreport import api, figures
from vgreport.aggregate import cell_table
from vgreport.cli import main
from vgreport.findings import FINDINGS, evaluate
from vgreport.findings import synthetic as syn
from vgreport.findings.literature import REFERENCES
from vgreport.report import document, environment, teaching
from vgreport.report import format as formatting
from vgreport.report import svg as report_svg
from vgreport.report.context import ReportContext
from vgreport.report.counts import count_cells
from vgreport.specs import default_experiments_dir, load_battery

import helpers
from helpers import TINY_EXPERIMENT, TINY_PROFILES

MAX_PAGES = 20  # the issue asks 24 for the standard build and 20 for a quick one; the synthetic report keeps to 20
MAX_STORY_PAGES = 14
MAX_PDF_BYTES = 1_000_000
MAX_HTML_BYTES = 1_100_000  # every figure in two layouts: full width (print, screens) and narrow (phones)
MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"}
# "Pascanu et al. 2013", "Le et al.'s (2015)", "Tallec & Ollivier 2018", "Pascanu, Mikolov & Bengio 2013"
AUTHOR_YEAR = re.compile(r"\b([A-Z][a-zà-ÿ]+)(?: et al\.|(?:, [A-Z][a-zà-ÿ]+)*,? (?:&|and) [A-Z][a-zà-ÿ]+)?"
                         r"(?:'s|’s)? \(?((?:19|20)\d\d)\)?")


@pytest.fixture(scope="module")
def standard_like(tmp_path_factory) -> dict:
    """The synthetic world's report, student edition, A4, HTML and PDF."""
    battery = load_battery(default_experiments_dir(), "standard")
    frame = syn.world()
    evaluation = evaluate(frame, battery, with_figures=True)
    out = tmp_path_factory.mktemp("handout")
    # the PDF carries what a build attaches: findings.json and the per-cell summary
    (out / "findings.json").write_text(json.dumps(evaluation.to_json(), indent=2) + "\n")
    cell_table(frame).to_csv(out / "cells.csv", index=False, float_format="%.6g")
    context = ReportContext(
        profile="standard", profile_description=battery.profile_spec.description,
        measured_at="2026-01-01T00:00:00+00:00", versions={"vgreport": "test"}, compute_seconds=700.0,
        counts=count_cells(cell_table(frame)), experiments=list(battery.experiments),
        attachments=[out / "findings.json", out / "cells.csv"])
    paths = document.render_report(evaluation, context, out)
    reader = PdfReader(paths["pdf"])
    page = paths["html"].read_text(encoding="utf-8")
    return {"paths": paths, "html": page, "text": _visible(page), "evaluation": evaluation, "battery": battery,
            "context": context,
            "pages": [re.sub(r"\s+", " ", p.extract_text() or "") for p in reader.pages]}


def _visible(page: str) -> str:
    """The text a reader sees: no styles, no figure internals, tags removed, entities decoded."""
    body = re.sub(r"<style.*?</style>|<svg.*?</svg>|<title>.*?</title>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _between(page: str, start: str, end: str | None = None) -> str:
    at = page.index(start)
    return page[at:page.index(end, at)] if end else page[at:]


def test_the_standard_shaped_report_fits_20_a4_pages_1_mb_and_1_1_mb_of_html(standard_like):
    """A report shaped like the standard build's (every finding decided, every figure drawn) is at
    most 20 A4 pages, its PDF at most 1 MB and its HTML (each figure in two layouts) at most 1.1 MB."""
    assert len(standard_like["pages"]) <= MAX_PAGES
    assert standard_like["paths"]["pdf"].stat().st_size <= MAX_PDF_BYTES
    assert standard_like["paths"]["html"].stat().st_size <= MAX_HTML_BYTES


def test_every_author_year_in_the_text_is_listed_and_every_listed_reference_is_cited(standard_like):
    """One reference list, at the end: each author–year the report mentions is an entry of it, and
    each entry is cited before it."""
    page = standard_like["html"]
    body, refs = page[:page.index('id="references"')], _between(page, 'id="references"')
    assert page.count('class="refs"') == 1
    listed = re.findall(r'<li id="ref-(\w+)">', refs)
    short = {(document.author_year(REFERENCES[k]).split()[0], document.author_year(REFERENCES[k]).split()[-1])
             for k in listed}  # one author may have two entries (Hochreiter 1991 and 1997)
    mentioned = {(name, year) for name, year in AUTHOR_YEAR.findall(_visible(body)) if name not in MONTHS}
    assert mentioned, "no citation found: the pattern is wrong"
    for name, year in mentioned:
        assert (name, year) in short, f"{name} {year} is mentioned but not listed"
    for key in listed:
        assert f'href="#ref-{key}"' in body, f"{key} is listed but never cited"
    assert set(listed) >= {"pascanu", "hochreiter", "vaswani", "tallec", "le", "arjovsky", "bengio"}


def _first_page_with(pages: list[str], text: str) -> int:
    return next(i for i, t in enumerate(pages, 1) if text in t and "Contents" not in t)


def test_the_story_ends_by_page_14_then_the_appendices_follow(standard_like):
    """The story (cover, glance, mechanism, one section per finding) ends by A4 page 14: the first
    appendix starts on page 15 at the latest, and every finding's story section comes before it,
    while each finding's criterion and parts are in the appendix, not in the story."""
    pages = standard_like["pages"]
    first_appendix = _first_page_with(pages, "Appendix A. How each verdict was decided")
    assert first_appendix <= MAX_STORY_PAGES + 1, f"the story runs to page {first_appendix - 1}"
    story = " ".join(pages[:first_appendix - 1])
    for f in standard_like["evaluation"].findings:
        assert f"{f.id} · " in story, f.id
    assert "Part of the criterion" not in story and "Criterion." not in story
    order = [_first_page_with(pages, f"Appendix {letter}.") for letter in "ABCDF"]
    assert order == sorted(order)


def test_author_year_is_read_from_the_one_reference_table():
    """cite() prints 'first author et al. year' for three or more authors, 'A & B year' for two."""
    assert document.author_year(REFERENCES["pascanu"]) == "Pascanu et al. 2013"
    assert document.author_year(REFERENCES["tallec"]) == "Tallec & Ollivier 2018"
    assert document.author_year(REFERENCES["vaswani"]) == "Vaswani et al. 2017"
    assert document.author_year(REFERENCES["le"]) == "Le et al. 2015"


def test_citing_an_unknown_reference_names_it(tmp_path):
    """cite('nobody') in a template is a one-line template error naming the key."""
    (tmp_path / "summary.html.j2").write_text("<p>{{ cite('nobody') }}</p>")
    battery = load_battery(default_experiments_dir(), "smoke")
    context = ReportContext(profile="smoke", profile_description="", measured_at="", versions={},
                                   compute_seconds=0.0, counts=count_cells(None), experiments=list(battery.experiments))
    with pytest.raises(environment.ReportTemplateError, match="summary.html.j2.*nobody"):
        document.render_html(evaluate(syn.world(), None, with_figures=False), context, templates_dir=tmp_path)


def test_the_page_after_the_cover_is_the_whole_story_in_one_figure(standard_like):
    """Page 2 shows the hero figure as Figure 1, its caption naming which models solved the task and
    whether the decay rate sorts them, and the box of common misconceptions."""
    second = standard_like["pages"][1]
    assert "The story at a glance" in second and "Figure 1." in second
    assert "Five common beliefs" in second
    glance = teaching.overview(standard_like["evaluation"], with_figure=False)
    assert glance.solved and glance.unsolved
    for p in glance.solved:
        assert p["label"] in second
    assert glance.sorted_by_rate == (max(abs(p["rate"]) for p in glance.solved)
                                     < min(abs(p["rate"]) for p in glance.unsolved))
    words = ("sorts them" if glance.sorted_by_rate else "does not sort them")
    assert words in second


def test_the_overview_says_the_rate_does_not_sort_models_when_a_slow_decayer_fails():
    """A model that decays slower than one that solved the task, yet fails, is named as the counterexample."""
    evaluation = evaluate(syn.world(), None, with_figures=False)
    points = [dict(p) for p in evaluation.overview]
    slow = min(points, key=lambda p: abs(p["rate"]))
    slow["solved"] = 0
    evaluation.overview = points
    glance = teaching.overview(evaluation, with_figure=False)
    assert glance.sorted_by_rate is False and glance.counterexample[1]["label"] == slow["label"]


def test_the_worked_example_can_be_redone_with_a_calculator(standard_like):
    """Its rows are the powers of the printed numbers (3 digits), so a calculator reproduces them: the
    bound (γ·σ_max)^k and the prediction (e^r)^k; the measured ratios of the exactly exponential synthetic
    gradient lie within the printed factor's rounding of the prediction."""
    worked = teaching.worked_example(standard_like["evaluation"])
    assert worked is not None and worked.gamma == 1.0 and worked.bound_allows_growth
    for row in worked.rows:
        assert row["bound"] == pytest.approx(float(formatting.fmt(worked.sigma)) ** row["k"], rel=1e-12)
        assert row["predicted"] == pytest.approx(float(formatting.fmt(worked.factor)) ** row["k"], rel=1e-12)
        assert row["predicted"] == pytest.approx(math.exp(worked.rate * row["k"]), rel=0.001 * row["k"])
        assert row["measured"] == pytest.approx(math.exp(worked.rate * row["k"]), rel=1e-9)
    box = _between(standard_like["html"], 'id="worked-example"', "</div>")
    assert formatting.fmt(worked.sigma) in box and formatting.fmt(worked.factor) in box
    assert "says nothing about whether the gradient shrinks" in box


def test_figures_are_numbered_in_the_order_they_appear(standard_like):
    """Figure 1, 2, 3, … in page order: no figure is printed before one with a smaller number."""
    numbers = [int(n) for n in re.findall(r"<strong>Figure (\d+)\.</strong>", standard_like["html"])]
    assert numbers == list(range(1, len(numbers) + 1))
    from vgreport.report import dynamics
    # + the overview, + the dynamics section's figure where the build has its experiment
    total = (sum(len(r.figures) for r in standard_like["evaluation"].results) + 1
             + (dynamics.dynamics(standard_like["evaluation"], with_figure=False) is not None))
    assert len(numbers) == total


def test_each_setup_is_described_once_in_one_experiment_table(standard_like):
    """One experiment table, one row per experiment; findings refer to it by number (E1, E2, …) and
    no experiment's title or code name appears in the prose outside the appendix and the commands."""
    page, battery = standard_like["html"], standard_like["battery"]
    assert page.count('<table class="battery">') == 1
    before = page[:page.index('id="appendix"')]
    prose = _visible(re.sub(r'<code class="cmd">.*?</code>', " ", before, flags=re.S))
    for e in battery.experiments:
        assert f'id="exp-{e.name}"' in page
        assert e.title not in prose, e.title
        assert f"'{e.name}'" not in prose and f"‘{e.name}’" not in prose, f"code name {e.name} in the prose"
        if "_" in e.name:  # names such as 'init' or 'copy' are also English words
            assert not re.search(rf"\b{re.escape(e.name)}\b", prose), f"code name {e.name} in the prose"
    assert re.search(r"Set-up: experiments? E\d+", prose)


def test_no_variant_code_name_reaches_the_prose(standard_like):
    """Model code names such as lstm_chrono appear only in the commands and the appendix."""
    page = standard_like["html"]
    prose = _visible(re.sub(r'<code class="cmd">.*?</code>', " ", page[:page.index('id="appendix"')], flags=re.S))
    variants = {v for e in standard_like["battery"].experiments for v in e.variants if "_" in v}
    leaked = sorted(v for v in variants if re.search(rf"\b{re.escape(v)}\b", prose))
    assert not leaked


def test_one_notation_phi_for_the_activation_f_for_the_forget_gate_g_for_the_gain(standard_like):
    """The activation is φ (its derivative φ′) in text, equations, diagrams and figure labels; f′ and
    the LSTM's g_t (cell candidate) appear nowhere; the candidate is z_t."""
    page, text = standard_like["html"], standard_like["text"]
    assert "f′" not in text and "f′" not in page
    assert "φ′" in text and "diag(φ′(a" in page
    assert "tanh(g_t)" not in page and "g_t" not in text and "z<sub>t</sub>" in page
    for tex, _ in report_svg.EQUATIONS.values():
        assert not re.search(r"(?<![\w_])f\\,\s*['(]", tex), tex
    assert r"\varphi" in report_svg.EQUATIONS["rnn_step"][0] and r"z_t" in report_svg.EQUATIONS["lstm_cell"][0]
    assert "φ′" in figures.unrolled_rnn() and "g_t" not in figures.lstm_cell()


def test_ascii_notation_from_the_findings_is_typeset(standard_like):
    """W_hh and σ_max written by a finding's criterion reach the page as subscripts, never as 'W_hh'."""
    text = standard_like["text"]
    assert "W_hh" not in text and "σ_max" not in text and "^(T−k)" not in text
    assert formatting.typeset("σ_max(W_hh)^(T−k)") == "σ<sub>max</sub>(W<sub>hh</sub>)<sup>T−k</sup>"
    assert formatting.typeset("gain_sweep_sigmoid, lstm_chrono") == "gain_sweep_sigmoid, lstm_chrono"


def test_a_formula_in_a_heading_never_breaks_after_its_equals_sign(standard_like):
    """Headings carry no-break spaces around =, ≥, <, …: 'g = 1' cannot break onto its own line."""
    for heading in re.findall(r"<h2[^>]*>(.*?)</h2>", standard_like["html"], flags=re.S):
        assert not re.search(r" (=|≥|≤|&lt;|&gt;|≈) ", heading), heading
    assert str(formatting.keep_formulas("at g = 1.5")) == "at g\u00a0=\u00a01.5"


def test_a_lower_bound_is_floored_never_rounded_up():
    """'R² ≥' shows 0.99962 as 0.999, not 1; an exact 1 stays 1."""
    assert formatting.floor(0.99962) == "0.999"
    assert formatting.floor(0.9) == "0.9"
    assert formatting.floor(1.0) == "1"
    assert formatting.floor(float("nan")) == "n/a"


def test_no_caption_calls_a_dotted_reference_line_dashed(standard_like):
    """Reference lines (bounds, chance, thresholds) are drawn dotted, so no caption calls one dashed."""
    for result in standard_like["evaluation"].results:
        for fig in result.figures:
            assert not re.search(r"[Dd]ash(ed|-dotted)", fig.caption), (result.id, fig.key, fig.caption)


def test_the_questions_never_stand_alone_on_a_page(standard_like):
    """Every 'Predict, then check' heading shares its page with that finding's takeaway."""
    pages = standard_like["pages"]
    questions = [i for i, t in enumerate(pages) for _ in range(t.count("Predict, then check"))]
    takeaways = [i for i, t in enumerate(pages) for _ in range(t.count("What to take away"))]
    assert len(questions) == len(takeaways) == len(standard_like["evaluation"].findings)
    assert questions == takeaways


def test_the_glossary_defines_the_reports_own_words(standard_like):
    """The words the report uses with a meaning of its own are defined once, in the glossary."""
    glossary = _visible(_between(standard_like["html"], 'id="glossary"', "</section>"))
    for word in ("Battery, profile, build.", "Configuration, cell.", "Seed.", "Gradient probe.", "Chance.",
                 "Look, Pocock's rule.", "Solved, above chance, at chance.", "Share of seeds.", "Wilson interval",
                 "Welch interval", "Fisher's exact test", "Holm correction.", "Equivalence test (TOST), margin.",
                 "Pascanu bound and factor.", "Check, finding.", "Newcombe interval.", "Wilson interval.",
                 "Thin, fragile (†), leave-one-seed-out.", "Clause; partly tested.", "Core and context parts"):
        assert word in glossary, word
    assert standard_like["text"].count("cut at 0 and 1") == 1
    # every statistic the report names anywhere is defined there
    outside = standard_like["text"].replace(glossary, " ")
    for name in ("Wilson", "Welch", "Newcombe", "Fisher", "Holm", "TOST", "t-interval", "fragile", "Pocock",
                 "leave-one-seed-out", "partly tested"):
        if name.lower() in outside.lower():
            assert name.lower() in glossary.lower(), f"{name} is named in the report but not in the glossary"


def test_the_abstract_counts_findings_and_checks_apart(standard_like):
    """The abstract counts the findings as claims and the checks separately."""
    evaluation = standard_like["evaluation"]
    abstract = _visible(_between(standard_like["html"], 'class="abstract"', "</section>"))
    assert f"tested {formatting.spell(len(evaluation.findings))} claims" in abstract
    assert f"{formatting.spell(len(evaluation.checks)).capitalize()} identity checks (Appendix C" in abstract
    # support is counted apart from support in the parts decided so far
    fully = sum(f.verdict == "supported" for f in evaluation.findings)
    so_far = sum(f.verdict == "supported so far" for f in evaluation.findings)
    assert f"{formatting.spell(fully)} of the {formatting.spell(len(evaluation.findings))} claims" in abstract
    if so_far:
        assert f"{formatting.spell(so_far)} supported only in the parts decided so far" in abstract


@pytest.mark.parametrize("edition", ["student", "instructor"])
@pytest.mark.parametrize("module", FINDINGS, ids=[m.SPEC.id for m in FINDINGS])
def test_both_printed_editions_ask_the_same_one_question_per_finding(module, edition):
    """The printed handout keeps one question per finding in both editions (the instructor edition
    adds answers and nothing else); the second question is on screen only."""
    rid = module.SPEC.id
    page, _ = helpers.finding_block(rid, "supported", edition)
    block = _between(page, f'id="{rid}"', "</section>")
    items = re.findall(r"<li( class=\"screen-only\")?>", _between(block, 'class="questions"', "</ol>"))
    assert [bool(cls) for cls in items] == [False] + [True] * (len(items) - 1), (rid, items)


# The findings the misconceptions box on the page after the cover names (glance.html.j2).
BELIEFS = ("C8", "C9", "G1", "C5", "C2")
BELIEF_WORLDS = [(rid, world) for rid, world in helpers.finding_worlds() if rid in BELIEFS]


@pytest.mark.parametrize("rid, world", BELIEF_WORLDS, ids=[f"{rid} {world}" for rid, world in BELIEF_WORLDS])
def test_each_common_misconception_is_answered_by_its_findings_verdict(rid, world):
    """In each world of a finding the box names, the box's verdict sentence for that finding is shown
    only under its verdict."""
    page, result = helpers.finding_block(rid, world, block="glance")
    box = _between(page, 'class="misconceptions"', "</div>")
    items = dict(re.findall(r'<li data-finding="(\w+)">(.*?)</li>', box, flags=re.S))
    assert tuple(items) == BELIEFS
    for kind, key, _, text in helpers.MARK.findall(items[rid]):
        assert kind == "verdict" and text.strip()
        assert result.verdict in key.split("|"), f"{rid} in '{world}': says {key}"


@pytest.fixture(scope="module")
def tiny_battery(tmp_path_factory) -> Path:
    return helpers.write(tmp_path_factory.mktemp("battery"), TINY_EXPERIMENT, TINY_PROFILES)


def _report(tiny_battery: Path, out: Path, command: str, *extra: str):
    result = CliRunner().invoke(main, [command, "--experiments", str(tiny_battery), "--out", str(out), "--profile",
                                       "smoke", "--format", "html", "-v", *extra])
    assert result.exit_code == 0, result.output
    return result.output, (out / "report.html").read_text(encoding="utf-8")


def test_the_edition_is_chosen_on_the_command_line_shown_on_the_cover_and_part_of_the_digest(tiny_battery, tmp_path):
    """build is the student edition by default; render --edition instructor renders again (the
    edition is part of the report digest) and says so on the cover; back to student reuses the
    cached student report."""
    output, page = _report(tiny_battery, tmp_path, "build", "--jobs", "1")
    assert "student edition" in _visible(page) and 'class="answer"' not in page
    output, page = _report(tiny_battery, tmp_path, "render", "--edition", "instructor")
    assert "copied from the cache" not in output
    assert "instructor edition" in _visible(page)
    output, page = _report(tiny_battery, tmp_path, "render", "--edition", "student")
    assert "copied from the cache" in output and "student edition" in _visible(page)


def test_an_unknown_edition_is_a_one_line_error(tiny_battery, tmp_path):
    """api.build refuses an unknown edition before any cell trains; the CLI refuses it with exit 2."""
    with pytest.raises(api.UserError, match="--edition teacher"):
        api.build("smoke", tmp_path, experiments_dir=tiny_battery, edition="teacher", progress=False)
    result = CliRunner().invoke(main, ["render", "--edition", "teacher"])
    assert result.exit_code == 2 and "teacher" in result.output


def test_sentences_never_run_together(standard_like):
    """Result sentences written on separate template lines keep a space between them ('learned. The')."""
    page = re.sub(r"<style.*?</style>|<svg.*?</svg>|<title>.*?</title>", " ", standard_like["html"], flags=re.S)
    inline = re.sub(r"</?(span|a|strong|em|sub|sup|code|cite)\b[^>]*>", "", page)  # inline tags join text
    text = html.unescape(re.sub(r"<[^>]+>", " ", inline))
    glued = [text[max(0, m.start() - 40):m.end() + 10] for m in re.finditer(r"[a-z0-9)][.;:!?][A-Z][a-z]", text)]
    assert not glued


def test_on_us_letter_the_cover_is_still_one_page(standard_like, tmp_path):
    """US letter is 50 pt shorter than A4: the cover's contents once spilled one line ('References')
    onto a page of its own. Page 2 is the story at a glance on A4; on letter the cover alone (the page cut
    before the glance section, so that only the cover is laid out) is one page."""
    import weasyprint

    from vgreport import api
    assert "The story at a glance" in standard_like["pages"][1]
    # as a real build's cover reads: every library's version, ten seeds
    counts = dataclasses.replace(standard_like["context"].counts, seeds=tuple(range(10)))
    context = dataclasses.replace(standard_like["context"], paper="letter", versions=api._versions(), counts=counts)
    page = document.render_html(standard_like["evaluation"], context)
    cover = page[:page.index('<section class="glance"')] + "</main></body></html>"
    weasyprint.HTML(string=cover).write_pdf(tmp_path / "cover.pdf")
    pages = PdfReader(tmp_path / "cover.pdf").pages
    assert pages[0].mediabox.height == pytest.approx(792, abs=1)
    assert len(pages) == 1 and "References" in (pages[0].extract_text() or "")


def test_every_run_command_the_report_prints_is_accepted_as_printed(standard_like, tmp_path, monkeypatch):
    """Each `vgreport run …` in the handout, parsed from its printed text, is accepted by the CLI and
    runs the cells of the experiment it names (training replaced by a stub: the command line,
    profile and overrides are all checked before training starts)."""
    import html as html_module
    import shlex

    ran = []

    def execute(cells, cache, **options):
        ran.append({c.experiment for c in cells})
        return [], api.Summary(cells=len(cells), cached=len(cells))
    monkeypatch.setattr(api, "_execute", execute)
    commands = [html_module.unescape(re.sub(r"<[^>]+>", "", c))
                for c in re.findall(r'<code class="cmd">(vgreport run .*?)</code>', standard_like["html"])]
    commands = [c for c in commands if "EXPERIMENT" not in c]  # the appendix's template of a command
    assert len(commands) >= 15
    for command in commands:
        argv = shlex.split(command)[1:]
        result = CliRunner().invoke(main, argv + ["--out", str(tmp_path / "o"), "-q"])
        assert result.exit_code == 0, (command, result.output)
        assert ran[-1] == {argv[1]}


def test_every_printed_count_agrees_with_cells_csv_and_findings_json(standard_like):
    """The cover's cells, configurations, trained runs, probes and seeds are those of the attached
    cells.csv (counted here with pandas, not by the report's code); the appendix never calls cell
    specifications configurations; the Holm level the glossary states is the one C7 applies (Pocock's level of
    the looks)."""
    import pandas as pd

    from vgreport.findings.stats import ALPHA

    out = standard_like["paths"]["html"].parent
    cells = pd.read_csv(out / "cells.csv")
    findings = json.loads((out / "findings.json").read_text())
    configuration = ["experiment", "variant", "arch", "activation", "init", "gain", "hidden", "task", "length",
                     "clip", "budget"]  # a cell's columns but its seed
    configurations = len(cells[configuration].drop_duplicates())
    trained = int((cells["budget"] > 0).sum())
    text = standard_like["text"]
    cover = _between(text, "Vanishing gradients, measured", "Contents")
    assert f"{formatting.fmt(len(cells))} cells: {formatting.fmt(configurations)} configurations" in cover
    assert f"{formatting.fmt(trained)} training runs" in cover
    probes = len(cells) - trained
    assert (f"{formatting.fmt(probes)} probes of untrained networks" in cover) == bool(probes)
    seeds = sorted(cells["seed"].unique())
    consecutive = len(seeds) > 2 and seeds[-1] - seeds[0] == len(seeds) - 1  # printed as a range
    assert (f"seeds {seeds[0]}–{seeds[-1]}" if consecutive
            else f"seeds {', '.join(str(s) for s in seeds[:-1])} and {seeds[-1]}") in cover
    assert "distinct configurations" not in text
    assert len(findings["findings"]) >= 10
    from vgreport.findings.stats import look_level
    rounds = max((tuple(e.seed_rounds) for e in standard_like["context"].experiments), key=len)
    holm = _between(text, "Holm correction.", "Look, Pocock's rule.")
    assert formatting.pct(ALPHA) in holm
    if len(rounds) > 1:
        assert formatting.pct(1 - look_level(rounds), 2) in holm


def test_a_finding_is_headed_by_what_was_found_and_its_criterion_box_stays_with_its_evidence(standard_like):
    """Each finding's heading is what this build found (Result.heading: the claim where it held), never
    the generated headline, which stands in Appendix A; a heading that is not the claim has the claim
    tested beside it; and on every page of the appendix, each verdict box is followed on that page by the
    table of its parts (or the line saying the claim cannot be tested): a box never ends a page alone."""
    page = standard_like["html"]
    for f in standard_like["evaluation"].findings:
        heading = _visible(re.search(rf'<h2 id="{f.id}-title"[^>]*>(.*?)</h2>', page, re.S).group(1)).strip()
        found = _visible(str(formatting.keep_formulas(formatting.typeset(f"{f.id} · {f.heading}")))).strip()
        assert heading == found, (heading, found)
        assert (f.heading == f.title) == f.supports, (f.id, f.verdict, f.heading)
        if f.heading != f.title:
            line = _between(page, f'id="{f.id}-title"', "</p>")
            assert "Claim tested:" in _visible(line) and f.verdict in _visible(line)
        if f.headline != f.title:
            assert _visible(str(formatting.typeset(f.headline)))[:40] not in heading
    boxes = 0
    pages = standard_like["pages"]
    first_appendix = _first_page_with(pages, "Appendix A. How each verdict was decided")
    findings = standard_like["evaluation"].findings
    for number, text in enumerate(pages[first_appendix - 1:], first_appendix):  # the boxes are in Appendix A
        for match in re.finditer(r"Verdict: ", text):
            rest = text[match.end():]
            if not ("Part of the criterion" in rest or "cannot test the claim" in rest):
                # a box may continue on the next page (closed on both): then its criterion's last words
                # and its table open that page, before any other box
                following = pages[number].split("Verdict: ")[0]
                tail = " ".join(_visible(str(formatting.typeset(findings[boxes].criterion))).split()[-4:])
                assert "Part of the criterion" in following, f"page {number}"
                assert tail in " ".join(following.split()), (number, tail)
            boxes += 1
    assert boxes == len(standard_like["evaluation"].findings)


def _ink_fill(pdf: Path, tmp_path: Path) -> list[float]:
    """Per page, how far down the text area the lowest ink reaches (0: empty, 1: full), from a 20-dpi
    grayscale rendering; the running header and footer lie outside the measured band."""
    import subprocess

    from PIL import Image
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(tmp_path / "p")], check=True, timeout=120)
    fills = []
    for path in sorted(tmp_path.glob("p-*.pgm")):
        with Image.open(path) as image:
            width, height = image.size
            top, bottom = int(height * 0.06), int(height * 0.93)
            rows = [y for y in range(top, bottom)
                    if min(image.getpixel((x, y)) for x in range(int(width * 0.05), int(width * 0.95))) < 200]
        fills.append((max(rows) - top) / (bottom - top) if rows else 0.0)
    return fills


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler's pdftoppm is not installed")
def test_no_page_is_under_60_percent_full_except_before_a_new_section(standard_like, tmp_path):
    """A page may end early only where the next page starts a section (a finding, the glance page, an
    appendix, the references): figures and boxes never leave a page mostly blank mid-section."""
    pages = standard_like["pages"]
    fills = _ink_fill(standard_like["paths"]["pdf"], tmp_path)
    assert len(fills) == len(pages)
    titles = ([f"{f.id} · " for f in standard_like["evaluation"].findings]
              + ["The story at a glance", "Appendix A.", "Appendix B.", "Appendix C.", "Appendix D.", "Appendix E.",
                 "Appendix F.", "References"])
    starts = {_first_page_with(pages, t) for t in titles if any(t in p for p in pages)}
    for number, fill in enumerate(fills[:-1], 1):
        assert fill >= 0.6 or number + 1 in starts, f"page {number} is {fill:.0%} full mid-section"


def test_c9s_story_shows_the_exploding_regime_and_the_appendix_the_vanishing_one(standard_like):
    """C9's story figure is its positive result (clipping stops the explosion); the vanishing regime's
    figure, where both arms stayed at chance, goes to Appendix A."""
    page = standard_like["html"]
    appendix = page.index('id="appendix"')
    assert 0 < page.index('id="fig-C9-exploding"') < appendix
    assert page.index('id="fig-C9-vanishing"') > appendix
