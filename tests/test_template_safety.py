"""Templates are sandboxed and the report stays one self-contained file (issue 12): a --templates
folder can change words and layout, never run code, read files or make the page fetch anything."""
from __future__ import annotations

import os

import pytest

from vgreport.report import environment
from vgreport.report.document import render_html, render_report
from vgreport.report.environment import ReportTemplateError
from vgreport.report.selfcontained import external_references

from helpers import hand_made_context as _context
from helpers import hand_made_evaluation as _evaluation


@pytest.fixture
def templates(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    return folder


def _render_with(folder, tmp_path, name: str, text: str):
    (folder / name).write_text(text)
    return render_html(_evaluation(), _context(tmp_path / "data"), templates_dir=folder)


def _refused(folder, tmp_path, name: str, text: str) -> str:
    with pytest.raises(ReportTemplateError) as info:
        _render_with(folder, tmp_path, name, text)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# --------------------------------------------------------------- the sandbox

def test_a_template_cannot_run_a_shell_command(templates, tmp_path):
    """The classic escape through cycler.__init__.__globals__ is a sandbox violation; nothing runs."""
    marker = tmp_path / "pwned"
    message = _refused(templates, tmp_path, "notation.html.j2",
                       "<p>\n{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}</p>")
    assert not marker.exists()
    assert "notation.html.j2" in message and "line 2" in message, message


@pytest.mark.parametrize("expression", [
    "ctx.attachments[0].read_text()",
    "ctx.attachments[0].parent.joinpath('pwned').write_text('x')",
    "ctx.experiments[0].model_copy",
    "ctx.experiments[0].parse_file('/etc/passwd')",
    "ctx.date.__class__",
    "f.numbers.rate.__class__.__mro__",
], ids=["read_a_file", "write_a_file", "pydantic_method", "pydantic_file_reader", "dunder", "mro"])
def test_objects_in_the_context_expose_no_file_access_or_internals(templates, tmp_path, expression):
    """Paths, pydantic's own methods and dunder attributes are out of a template's reach."""
    message = _refused(templates, tmp_path, "notation.html.j2",
                       "{% for f in findings %}{{ " + expression + " }}{% endfor %}")
    assert "notation.html.j2" in message and "line 1" in message, message
    assert not (tmp_path / "data" / "pwned").exists()


def test_sandboxed_templates_keep_their_filters_tests_and_globals(templates, tmp_path):
    """fmt, pct, ci, verdict_class, `is known`, spell, number_rows, variant_models and model.describe()
    all still work inside the sandbox."""
    page = _render_with(templates, tmp_path, "notation.html.j2", (
        "{% set e = ctx.experiments[0] %}"
        "<p id='probe'>{{ 1234.5 | fmt }}|{{ 0.453 | pct }}|{{ (0.1, 0.2) | ci }}|{{ 'partly refuted' | verdict_class }}"
        "|{{ 3 is known }}|{{ spell(3) }}|{{ number_rows({'a': 1}) | length }}"
        "|{{ variant_models(e) | length > 0 }}|{{ e.model.describe() }}|{{ ctx.date_text }}</p>"))
    probe = page[page.index("<p id='probe'>"):]
    assert probe.startswith("<p id='probe'>1\u202f230|45%|[0.1, 0.2]|partly-refuted|True|three|1|True|RNN (")


def test_a_template_cannot_allocate_without_bound(templates, tmp_path):
    """'x' * 10**10 would ask for 10 GB: refused as a sandbox violation instead."""
    message = _refused(templates, tmp_path, "notation.html.j2", "{{ 'x' * 10**10 }}")
    assert "notation.html.j2" in message


def test_autoescape_is_kept(templates, tmp_path):
    """A string with markup from the data is escaped, as before the sandbox."""
    page = _render_with(templates, tmp_path, "notation.html.j2", "<p id='esc'>{{ '<b>x</b>' }}</p>")
    assert "<p id='esc'>&lt;b&gt;x&lt;/b&gt;</p>" in page


# --------------------------------------------------------------- the loader

def test_a_symlinked_template_is_refused(templates, tmp_path):
    """notation.html.j2 -> /etc/passwd is refused; the file's content never reaches the page."""
    os.symlink("/etc/passwd", templates / "notation.html.j2")
    with pytest.raises(ReportTemplateError) as info:
        render_html(_evaluation(), _context(tmp_path / "data"), templates_dir=templates)
    message = str(info.value)
    assert "notation.html.j2" in message and "symbolic link" in message and "\n" not in message


def test_a_symlinked_folder_inside_the_templates_is_refused(templates, tmp_path):
    """findings/ -> a folder outside: a template reached through it is refused too."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "C11.html.j2").write_text("secret")
    os.symlink(outside, templates / "findings")
    with pytest.raises(ReportTemplateError, match="findings"):
        render_html(_evaluation(), _context(tmp_path / "data"), templates_dir=templates)


def test_template_files_lists_regular_files_and_refuses_links(templates):
    """template_files() (what the build checks up front and hashes) refuses a link anywhere in the folder."""
    (templates / "a.html.j2").write_text("a")
    assert environment.template_files(templates) == [templates / "a.html.j2"]
    os.symlink("/etc/passwd", templates / "b.html.j2")
    with pytest.raises(ReportTemplateError, match="b.html.j2"):
        environment.template_files(templates)


# --------------------------------------------------------------- template errors are one line

@pytest.mark.parametrize("text, line", [
    ("<p>\n\n{{ 1/0 }}</p>", 3),
    ("<p>\n{{ nosuch() }}</p>", 2),
    ("<p>{{ nosuch + 1 }}</p>", 1),
    ("<p>\n{% if %}</p>", 2),
    ("<p>{{ math('nosuch') }}</p>", 1),
], ids=["division_by_zero", "undefined_call", "undefined_arithmetic", "syntax", "unknown_equation"])
def test_a_template_error_names_the_template_and_line(templates, tmp_path, text, line):
    """Runtime and syntax errors in a user template are one line naming the file and the line."""
    message = _refused(templates, tmp_path, "summary.html.j2", text)
    assert "summary.html.j2" in message and f"line {line}" in message, message


# --------------------------------------------------------------- the self-contained check

@pytest.mark.parametrize("snippet", [
    '<svg><image href=http://example.org/x.png /></svg>',
    "<svg><image xlink:href='//example.org/x.png'/></svg>",
    '<meta http-equiv=refresh content="0;url=https://example.org">',
    '<META HTTP-EQUIV="Refresh" CONTENT="5">',
    '<body onload="fetch(\'https://example.org\')">',
    '<svg onload=fetch(1)>',
    '<div OnMouseOver=alert(1)>x</div>',
    '<img src="javascript:alert(1)">',
    '<img src=" https://example.org/x.png">',
    '<img src="&#104;ttps://example.org/x.png">',
    '<img srcset="data:image/png;base64,AAAA 1x,https://example.org/y.png 2x">',
    '<form action="https://example.org"><button formaction=https://example.org>x</button></form>',
    '<video poster=https://example.org/p.png></video>',
    '<table background="https://example.org/t.png"></table>',
    '<blockquote cite="https://example.org">q</blockquote>',
    '<object data="https://example.org/x.swf"></object>',
    '<a href="https://example.org">a link out</a>',
    '<a ping="https://example.org" href="#top">x</a>',
    '<svg><use href="https://example.org/s.svg#a"/></svg>',
    '<svg><a><set attributeName="href" to="https://example.org"/></a></svg>',
    '<p style="background: url(https://example.org/x.png)">x</p>',
    "<style>p { background: u\\72l(https://example.org/x.png) }</style>",
    "<style>@import 'https://example.org/x.css';</style>",
    "<style>p { background-image: image-set('https://example.org/x.png' 1x) }</style>",
    "<svg><style>p { background: u&#114;l(https://example.org/x.png) }</style></svg>",
    '<!--><img src=https://example.org/x.png>-->',
    '<img/src=https://example.org/x.png>',
    "<style></style ><img src=https://example.org/x.png></style>",
    '<link rel=stylesheet href=x.css>',
    '<script>fetch("x")</script>',
    '<iframe srcdoc="<p>x</p>"></iframe>',
    '<base href="https://example.org/">',
], ids=lambda s: s[:40])
def test_every_way_of_fetching_or_linking_out_is_refused(snippet):
    """URL attributes other than #fragment and data:, refresh, event handlers and CSS url()/@import
    outside data: are all reported, quoted or not, however they are spelled."""
    page = f"<!doctype html><html><head><title>t</title></head><body>{snippet}</body></html>"
    assert external_references(page), snippet


@pytest.mark.parametrize("snippet", [
    '<a href="#fig-C1-decay">Figure 1</a>',
    '<svg><use xlink:href="#glyph1"/><path clip-path="url(#clip1)" d="M0 0"/></svg>',
    '<img src="data:image/png;base64,AAAA" alt="x">',
    '<style>@font-face { src: url(data:font/woff2;base64,AAAA) } a { color: red }</style>',
    '<p>A sentence about onload, src= and href= in prose.</p>',
    '<meta name="description" content="https://example.org is only text here">',
])
def test_same_document_references_and_data_uris_pass(snippet):
    """Fragments, data: URIs and text that merely mentions such words are not references out."""
    page = f"<!doctype html><html><head><title>t</title></head><body>{snippet}</body></html>"
    assert external_references(page) == [], snippet


def test_a_refused_reference_names_the_template_and_line(templates, tmp_path):
    """An unquoted href in a user template: one line naming the template, its line and the reference."""
    (templates / "notation.html.j2").write_text("<p>ok</p>\n<svg><image href=http://example.org/x.png /></svg>\n")
    with pytest.raises(ReportTemplateError) as info:
        render_report(_evaluation(), _context(tmp_path / "data"), tmp_path / "out", formats=("html",),
                      templates_dir=templates)
    message = str(info.value)
    assert "notation.html.j2" in message and "line 2" in message and "example.org" in message, message
    assert not (tmp_path / "out" / "report.html").exists()



def test_a_retired_or_misspelt_verdict_word_is_refused_not_silently_hidden(templates, tmp_path):
    """say_verdict takes only the verdict words (and check states): 'partly supported', retired
    with the core/context verdicts, would hide its sentence in every build; it stops the render
    with one line naming the word (and the macro's line)."""
    message = _refused(templates, tmp_path, "notation.html.j2",
                       '{% from "macros.html.j2" import say_verdict %}\n'
                       "{% for f in findings %}{% call say_verdict(f, 'partly supported') %}x{% endcall %}{% endfor %}")
    assert "unknown verdict 'partly supported'" in message and "say_verdict" in message, message
    page = _render_with(templates, tmp_path, "notation.html.j2",
                        '{% from "macros.html.j2" import say_verdict %}<p id="said">'
                        "{% for f in findings %}{% call say_verdict(f, 'supported so far') %}{{ f.id }}{% endcall %}"
                        "{% endfor %}</p>")
    assert '<span class="says" data-verdict="supported so far">C12</span>' in page
