"""The document stage: hand-made findings in, a self-contained HTML page and a printable PDF out."""
from __future__ import annotations

import logging
import math
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from vgreport.figures import DIAGRAMS
from vgreport.report import document, environment
from vgreport.report import format as formatting
from vgreport.report import svg as report_svg
from vgreport.report.document import render_report
from vgreport.report.selfcontained import external_references

from helpers import MEASURED_AT
from helpers import hand_made_context as _context
from helpers import hand_made_evaluation as _evaluation
from helpers import hand_made_findings as _findings

A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)


# A body for C11 that cites its second figure before placing the first, and never places the
# second: the renderer must number both up front and append the one the body left out.
C11_BODY = ("<p class=\"c11-body\">As Figure {{ fignum(f, 'rates') }} will show, rate {{ n.rate | fmt }} "
            "{{ n.interval | ci }} over {{ n.cells | fmt }} cells.</p>\n{{ figure(f, 'decay') }}\n"
            "<p class=\"eq\">{{ math('bptt_product') }}</p>\n")


@pytest.fixture(scope="module")
def user_templates(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("templates")
    (folder / "findings").mkdir()
    (folder / "findings" / "C11.html.j2").write_text(C11_BODY)
    return folder


@pytest.fixture(scope="module")
def a4_report(tmp_path_factory, user_templates) -> dict:
    folder = tmp_path_factory.mktemp("a4")
    logged = _Records()
    weasyprint_logger = logging.getLogger("weasyprint")
    weasyprint_logger.addHandler(logged)
    try:
        paths = render_report(_evaluation(), _context(folder / "data"), folder, templates_dir=user_templates)
    finally:
        weasyprint_logger.removeHandler(logged)
    reader = PdfReader(paths["pdf"])
    return {"paths": paths, "html": paths["html"].read_text(encoding="utf-8"), "reader": reader,
            "pages": [_squash(p.extract_text() or "") for p in reader.pages], "data": folder / "data",
            "logged": logged.messages}


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _headings() -> list[str]:
    return (["Contents", "The story at a glance", "The mechanism: why gradients vanish"]
            + [f"{f.id} · {f.heading}" for f in _findings()]
            + ["Appendix A. How each verdict was decided", "Appendix B. The experiments and how to rerun them",
               "Appendix C. Checks: identities the measurements must satisfy", "Appendix D. Against the literature",
               "Appendix F. Glossary: the report's words and statistics", "References"])


def test_html_references_nothing_external(a4_report):
    """The HTML is one file: no src/href outside the page, no url() or @import, no link or script element."""
    page = a4_report["html"]
    for match in re.finditer(r"""\b(?:src|href|xlink:href)\s*=\s*["']([^"']*)["']""", page):
        assert match.group(1).startswith("#"), match.group(0)
    for match in re.finditer(r"url\(\s*['\"]?([^)'\"]*)", page):
        assert match.group(1).startswith("#"), match.group(0)
    assert "@import" not in page and "<link" not in page and "<script" not in page
    assert external_references(page) == []


def test_external_reference_from_a_user_template_is_refused(tmp_path):
    """A template that would make the HTML fetch something fails the render and writes nothing."""
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "notation.html.j2").write_text('<img src="https://example.org/x.png" alt="x">')
    with pytest.raises(environment.ReportTemplateError, match="self-contained"):
        render_report(_evaluation(), _context(tmp_path / "data"), tmp_path / "out", formats=("html",),
                      templates_dir=tmp_path / "tpl")
    assert not (tmp_path / "out" / "report.html").exists()


def test_weasyprint_reports_no_problem(a4_report):
    """WeasyPrint logs no warning or error: every CSS rule is understood, every figure has its alt text
    (a PDF/UA requirement it checks), nothing is fetched. Its notice about subsetting fonts with
    fontTools when libharfbuzz-subset is missing is about the machine, not the report."""
    problems = [m for m in a4_report["logged"] if "instead of HarfBuzz-Subset" not in m]
    assert problems == []


def test_pdf_names_every_finding_title_and_verdict(a4_report):
    """The PDF's text holds every finding's title and verdict."""
    text = " ".join(a4_report["pages"])
    for f in _findings():
        assert f.title in text and f.verdict in text, f.id


def _contents(pages: list[str]) -> dict[str, int]:
    """Entry -> page number, read from the contents page's text ('Title . . . . 7')."""
    text = pages[_contents_page(pages)].split("Contents The story at a glance", 1)[1]
    entries = {}
    for title in _headings()[2:]:
        match = re.search(re.escape(title) + r"(?: \([a-z ]+\))?[ .]*?(\d+)\b", text)  # (verdict) beside a finding
        assert match, f"{title!r} missing from the contents page"
        entries[title] = int(match.group(1))
    return entries


def _contents_page(pages: list[str]) -> int:
    return next(i for i, t in enumerate(pages) if "Contents The story at a glance" in t)


def test_contents_page_numbers_are_the_pages_where_headings_stand(a4_report):
    """Each contents entry's page number is the page whose text first shows that heading after the contents."""
    pages = a4_report["pages"]
    contents_page = _contents_page(pages)
    for title, number in _contents(pages).items():
        first = next(i for i, t in enumerate(pages) if i > contents_page and title in t)
        assert number == first + 1, f"{title!r}: contents say page {number}, heading stands on page {first + 1}"


def test_bookmarks_cover_every_section_and_point_at_its_page(a4_report):
    """The PDF outline has one bookmark per section, on the page the contents give for it."""
    reader = a4_report["reader"]
    marks = {o.title: reader.get_destination_page_number(o) + 1 for o in reader.outline if not isinstance(o, list)}
    contents = _contents(a4_report["pages"])
    assert marks["Vanishing gradients, measured"] == 1
    for title in _headings():
        assert title in marks, f"no bookmark for {title!r}"
        if title in contents:
            assert marks[title] == contents[title], title


def test_fonts_are_embedded(a4_report):
    """Every font the PDF uses carries its glyphs (a FontFile stream), so it prints the same anywhere."""
    seen = 0
    for page in a4_report["reader"].pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descriptor = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font)["/FontDescriptor"]
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            seen += 1
    assert seen


def test_every_figure_and_equation_has_alt_text(a4_report):
    """Each inline SVG has role=img, an aria-label and a <title>; the tagged PDF gives each Figure an /Alt."""
    page = a4_report["html"]
    svgs = re.findall(r"<svg\b[^>]*>\s*<title>([^<]*)</title>", page)
    assert len(svgs) == len(re.findall(r"<svg\b", page))
    for tag in re.findall(r"<svg\b[^>]*>", page):
        assert 'role="img"' in tag and re.search(r'aria-label="[^"]+"', tag), tag
    assert "Decay: rate −0.0441 per step." in svgs
    figures = sum(len(f.figures) for f in _findings())
    assert len(re.findall(r'<figure class="fig"', page)) == figures
    assert len(re.findall(r'<figure class="fig diagram"', page)) == len(DIAGRAMS)  # drawn in the notation
    assert any(alt.startswith("Diagram of a recurrent network unrolled") for alt in svgs)

    alts = []

    def walk(node):
        node = node.get_object()
        if node.get("/S") == "/Figure":
            alts.append(str(node.get("/Alt", "")))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids]:
            if hasattr(kid, "get_object") and isinstance(kid.get_object(), dict):
                walk(kid)

    walk(a4_report["reader"].trailer["/Root"]["/StructTreeRoot"])
    # Appendix A's further figures are on screen only: the PDF names them instead of printing them;
    # so is a figure's narrow layout (for phones)
    printed = r'<svg\b(?![^>]*class="narrow")'
    screen_only = sum(len(re.findall(printed, block))
                      for block in re.findall(r'<div class="further-figures">.*?</div>', page, flags=re.S))
    assert len(alts) == len(re.findall(printed, page)) - screen_only and all(alts)


def test_metadata_title_author_subject_keywords_language_and_date(a4_report):
    """The PDF carries title, author, subject, keywords, language en and the measurement time as its dates."""
    reader = a4_report["reader"]
    meta = reader.metadata
    assert "Vanishing gradients" in meta.title and "smoke" in meta.title
    assert meta.author.startswith("vgreport") and meta.subject and "vanishing gradients" in meta["/Keywords"]
    assert meta.creation_date.isoformat() == MEASURED_AT and meta.modification_date.isoformat() == MEASURED_AT
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert '<html lang="en">' in a4_report["html"]


def test_a4_by_default_and_letter_on_request(a4_report, tmp_path):
    """Every page is A4 by default and US letter with paper='letter'."""
    for page in a4_report["reader"].pages:
        assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == A4
    paths = render_report(_evaluation(), _context(tmp_path / "data", paper="letter"), tmp_path, formats=("pdf",))
    for page in PdfReader(paths["pdf"]).pages:
        assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == LETTER


def test_unknown_paper_is_refused(tmp_path):
    """A paper size other than a4 or letter is an error, not a silent A4."""
    with pytest.raises(ValueError, match="paper"):
        render_report(_evaluation(), _context(tmp_path, paper="a5"), tmp_path, formats=("html",))


def test_metrics_and_findings_are_attached_to_the_pdf(a4_report):
    """metrics.csv and findings.json travel inside the PDF, byte for byte."""
    attached = a4_report["reader"].attachments
    for name in ("metrics.csv", "findings.json"):
        assert attached[name] == [(a4_report["data"] / name).read_bytes()]


def test_identical_inputs_give_byte_identical_html_and_pdf(a4_report, tmp_path, user_templates):
    """Rendering the same findings again, later and with newer attachment files, writes the same bytes."""
    data = tmp_path / "data"
    context = _context(data)
    later = time.time() + 3600
    for path in context.attachments:
        os.utime(path, (later, later))  # file times must not leak into the PDF
    time.sleep(1.1)  # a clock read anywhere would now differ by a second
    paths = render_report(_evaluation(), context, tmp_path, templates_dir=user_templates)
    assert paths["html"].read_bytes() == a4_report["paths"]["html"].read_bytes()
    assert paths["pdf"].read_bytes() == a4_report["paths"]["pdf"].read_bytes()


def test_user_templates_override_the_shipped_ones(tmp_path):
    """A file in templates_dir replaces the shipped template of the same name; the others still load."""
    (tmp_path / "notation.html.j2").write_text('<section id="notation"><h2>Notation and glossary</h2>'
                                               '<p>OUR OWN NOTATION PAGE</p></section>')
    page = document.render_html(_evaluation(), _context(tmp_path / "data"), templates_dir=tmp_path)
    assert "OUR OWN NOTATION PAGE" in page
    assert "Backpropagation through time" not in page  # the shipped mechanism page is gone
    assert "Summary of findings" in page


def test_a_finding_template_is_included_with_f_and_n(a4_report):
    """templates/findings/<ID>.html.j2 renders inside its section with `f` and `n` (f.numbers) in scope."""
    section = _section(a4_report["html"], "C11")
    assert "rate −0.0441 [−0.0472, −0.041] over 1\u202f234 cells" in section


def test_without_a_finding_template_its_parts_and_figures_are_shown(a4_report):
    """A finding with no template of its own shows its parts (each with its state) and its figures."""
    section = _section(a4_report["html"], "C12")
    assert 'id="fig-C12-accuracy"' in section  # in the story
    criteria = _section(a4_report["html"], "C12-criteria")  # the parts are in Appendix A
    assert "(part a)" in criteria and "undetermined" in criteria
    assert "This build cannot test the claim" in _section(a4_report["html"], "C13")


def test_figures_are_numbered_in_finding_order_and_cited_forward(a4_report):
    """Figures are numbered by finding, then by each finding's list; prose may cite one before it appears,
    and a figure the body never placed is shown with the finding's parts in Appendix A, not lost."""
    page = a4_report["html"]
    assert re.findall(r"<strong>Figure (\d+)\.</strong>", page) == ["1", "2", "3", "4"]
    rates = re.search(r'id="fig-C11-rates".*?<strong>Figure (\d+)\.</strong>', page, re.S).group(1)
    assert f"As Figure {rates} will show" in _section(page, "C11")  # cited before it is placed
    assert 'id="fig-C11-rates"' in _section(page, "C11-criteria")  # with the finding's parts in Appendix A


def test_no_printed_text_is_smaller_than_8_pt(a4_report):
    """Every glyph of text in the PDF is set at 8 pt or larger."""
    smallest = math.inf

    def visit(text, cm, tm, font, size):
        nonlocal smallest
        if text.strip():
            smallest = min(smallest, size * math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1]))

    for page in a4_report["reader"].pages:
        page.extract_text(visitor_text=visit)
    assert smallest >= 7.99


def test_interrupted_pdf_leaves_the_previous_report_and_no_temporary_file(a4_report, tmp_path, monkeypatch):
    """If writing the PDF fails half-way, report.pdf keeps its previous content and no temporary file is left."""
    import weasyprint

    shutil.copy(a4_report["paths"]["pdf"], tmp_path / "report.pdf")

    def broken(self, target, **options):
        Path(target).write_bytes(b"%PDF-1.7 half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        render_report(_evaluation(), _context(tmp_path / "data"), tmp_path, formats=("pdf",))
    assert (tmp_path / "report.pdf").read_bytes() == a4_report["paths"]["pdf"].read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "report.pdf"]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler's pdftoppm is not installed")
def test_pdftoppm_renders_a_page_to_an_image(a4_report, tmp_path):
    """poppler rasterises a finding's page into a PNG that is not blank."""
    from PIL import Image

    page = next(i for i, t in enumerate(a4_report["pages"]) if "C11 · claim tested" in t) + 1
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(a4_report["paths"]["pdf"]), str(tmp_path / "page")], check=True, timeout=60)
    with Image.open(tmp_path / "page.png") as image:
        assert image.size[0] > 200 and image.convert("L").getextrema()[0] < 100  # dark ink on the page


@pytest.mark.parametrize("value, digits, expected", [
    (0.0441, 3, "0.0441"), (-0.0441, 3, "−0.0441"), (1234, 3, "1\u202f234"), (1234.5, 3, "1\u202f230"),
    (12.0, 3, "12"), (0.5, 3, "0.5"), (3.5e-8, 2, "3.5\u202f×\u202f10<sup>−8</sup>"), (None, 3, "n/a"),
    (float("nan"), 3, "n/a"), (True, 3, "yes"), ("tanh", 3, "tanh"), (0, 3, "0"),
])
def test_fmt_gives_significant_digits_grouped_thousands_and_na(value, digits, expected):
    """fmt rounds to significant digits, groups thousands, writes powers of ten and 'n/a' for missing."""
    assert str(formatting.fmt(value, digits)) == expected


def test_pct_and_ci_format_fractions_and_intervals():
    """pct writes a fraction as a percentage; ci writes '[lo, hi]' from a pair or a dict, 'n/a' when missing."""
    assert formatting.pct(0.453) == "45%" and formatting.pct(0.4537, 1) == "45.4%" and formatting.pct(None) == "n/a"
    assert str(formatting.ci((0.1, 0.25))) == "[0.1, 0.25]"
    assert str(formatting.ci({"lo": -0.0472, "hi": -0.041}, 2)) == "[−0.047, −0.041]"
    assert formatting.ci((float("nan"), 1.0)) == "n/a" and formatting.ci(None) == "n/a"


def test_equations_are_svg_paths_without_script_and_deterministic():
    """Every named equation renders to the same inline SVG each time: paths, a title, no script or font."""
    for name in report_svg.EQUATIONS:
        first = report_svg.equation_svg(name)
        report_svg.equation_svg.cache_clear()
        assert report_svg.equation_svg(name) == first
        assert first.startswith("<svg") and "<path" in first and "<title>" in first
        assert "<script" not in first and "<text" not in first and "Date" not in first


def _section(page: str, finding_id: str) -> str:
    start = page.index('<section class="finding')
    start = page.index(f'id="{finding_id}"', start)
    return page[start:page.index("</section>", start)]


def test_a_commit_hash_is_not_typeset_as_a_power_of_ten():
    """Python writes exponents with a sign (1e-06, 1e+16); a code version such as 5710e27-dirty (git
    describe) has none and stays as written in the appendix."""
    from vgreport.report import format as render
    assert render.typeset("5710e27-dirty") == "5710e27-dirty"
    assert render.typeset("1e-06") == "10<sup>−6</sup>" and render.typeset("2.5e+16") == "2.5\u202f×\u202f10<sup>16</sup>"
