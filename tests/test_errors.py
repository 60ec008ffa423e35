"""Every user-facing failure is one line and a non-zero exit, found before training where it can
be; --debug shows the traceback; Ctrl-C always stops a build (issue 12)."""
from __future__ import annotations

import errno
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from vgreport import api
from vgreport.cli import main
from vgreport.report import document

import helpers

EXPERIMENT = helpers.experiments(helpers.experiment(variants=None))


@pytest.fixture
def battery(tmp_path: Path) -> Path:
    return helpers.write(tmp_path / "battery", EXPERIMENT)


def _build(battery, out, *extra, debug=False):
    args = (["--debug"] if debug else []) + [
        "build", "--experiments", str(battery), "--out", str(out), "--profile", "smoke", "--jobs", "1",
        "--format", "html", *extra]
    return CliRunner().invoke(main, args)


def _one_line(result, exit_code: int) -> str:
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    # without a terminal a build prints one line per stage ("evaluating the findings ..."): progress, not the error
    lines = [line for line in result.output.strip().splitlines() if not line.endswith(" ...")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def _nothing_trained(monkeypatch):
    """Make training fail the test: these errors must be found before any cell runs."""
    from vgreport import api

    def trained(*args, **kwargs):
        raise AssertionError("a cell was trained before the error was found")
    monkeypatch.setattr(api, "execute", trained)  # (runner's own failures are reported, not raised)


# --------------------------------------------------------------- output folders

def test_out_inside_a_file_is_one_line_before_training(battery, tmp_path, monkeypatch):
    """--out afile/sub: one line naming the option and path, exit 1, no cell computed."""
    _nothing_trained(monkeypatch)
    (tmp_path / "afile").write_text("mine")
    line = _one_line(_build(battery, tmp_path / "afile" / "sub"), 1)
    assert "--out" in line and "afile" in line and "Not a directory" in line, line
    assert (tmp_path / "afile").read_text() == "mine"


def test_out_that_is_a_file_is_one_line(battery, tmp_path, monkeypatch):
    """api.build(out=afile): a UserError saying it is not a folder, before training."""
    _nothing_trained(monkeypatch)
    (tmp_path / "afile").write_text("mine")
    with pytest.raises(api.UserError, match="afile.*not a folder"):
        api.build("smoke", tmp_path / "afile", jobs=1, experiments_dir=battery, formats=("html",), progress=False)


def test_out_under_proc_is_one_line_before_training(battery, monkeypatch):
    """--out /proc/x (a folder that can never be created) is one line, exit 1."""
    _nothing_trained(monkeypatch)
    line = _one_line(_build(battery, Path("/proc/vgreport-test/x")), 1)
    assert "/proc/vgreport-test/x" in line, line


def test_cache_that_cannot_be_written_is_one_line_before_training(battery, tmp_path, monkeypatch):
    """--cache under a file: one line naming --cache, exit 1, no cell computed."""
    _nothing_trained(monkeypatch)
    (tmp_path / "afile").write_text("mine")
    line = _one_line(_build(battery, tmp_path / "out", "--cache", str(tmp_path / "afile" / "c")), 1)
    assert "--cache" in line, line


def test_a_read_only_output_folder_is_one_line_before_training(battery, tmp_path, monkeypatch):
    """EROFS when the build first writes into --out (simulated: root ignores permissions) is one line."""
    _nothing_trained(monkeypatch)
    real_mkstemp = api.tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == tmp_path / "ro":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)
    monkeypatch.setattr(api.tempfile, "mkstemp", read_only)
    line = _one_line(_build(battery, tmp_path / "ro"), 1)
    assert "Read-only file system" in line and "--out" in line, line


def test_a_full_disk_while_writing_the_report_is_one_line_and_keeps_the_old_outputs(battery, tmp_path, monkeypatch):
    """ENOSPC from the writer: one line, exit 1, the previous outputs as they were, no staging left."""
    out = tmp_path / "out"
    assert _build(battery, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def full(path, write):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    monkeypatch.setattr(document, "write_atomic", full)
    line = _one_line(_build(battery, out, "--force-render"), 1)
    assert "No space left on device" in line, line
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not list(out.glob(".staging-*"))


# --------------------------------------------------------------- templates and specs through the CLI

def test_a_template_runtime_error_is_one_line_with_template_and_line(battery, tmp_path):
    """{{1/0}} in a --templates file: one line naming it and its line, exit 1."""
    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "summary.html.j2").write_text("<p>\n{{ 1/0 }}</p>\n")
    line = _one_line(_build(battery, tmp_path / "b", "--templates", str(templates)), 1)
    assert "summary.html.j2" in line and "line 2" in line and "division by zero" in line, line


def test_a_refused_url_in_a_template_is_one_line(battery, tmp_path):
    """An external reference from a --templates file: one line naming it, exit 1, nothing written."""
    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "summary.html.j2").write_text('<p><img src="https://example.org/x.png" alt=""></p>\n')
    line = _one_line(_build(battery, tmp_path / "b", "--templates", str(templates)), 1)
    assert "summary.html.j2" in line and "line 1" in line and "example.org" in line, line
    assert not (tmp_path / "b" / "report.html").exists()


def test_a_symlink_in_the_templates_folder_is_one_line_before_training(battery, tmp_path, monkeypatch):
    """A link to /etc/passwd among the templates: one line, exit 1, found before any cell runs."""
    _nothing_trained(monkeypatch)
    templates = tmp_path / "t"
    templates.mkdir()
    os.symlink("/etc/passwd", templates / "notation.html.j2")
    line = _one_line(_build(battery, tmp_path / "b", "--templates", str(templates)), 1)
    assert "notation.html.j2" in line and "symbolic link" in line, line


@pytest.mark.parametrize("name,content,expected", [
    (b"\xffnotes.html.j2", b"<p>x</p>", ["is not UTF-8", "\\xffnotes.html.j2"]),  # failed after training
    (b"notation.html.j2", "<p>tr\u00e8s</p>".encode("latin-1"), ["notation.html.j2", "not UTF-8 text"]),
    (b"summary.html.j2", b"<p>\n{% if %}</p>", ["summary.html.j2", "line 2"]),
    (b"report.css", b"body { color: {{ }}; }", ["report.css", "line 1"]),
], ids=["name_not_utf8", "content_not_utf8", "syntax_error", "css_syntax_error"])
def test_a_template_that_cannot_be_read_or_parsed_is_one_line_before_training(battery, tmp_path, monkeypatch,
                                                                               name, content, expected):
    """Every check of --templates runs before training: names, encoding and syntax."""
    _nothing_trained(monkeypatch)
    templates = tmp_path / "t"
    templates.mkdir()
    with open(os.fsencode(templates) + b"/" + name, "wb") as handle:
        handle.write(content)
    line = _one_line(_build(battery, tmp_path / "b", "--templates", str(templates)), 1)
    assert all(text in line for text in expected), line
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("content", [
    "experiments:\n  - name: tr\u00e8s\n".encode("latin-1"),
    EXPERIMENT.encode("utf-16"),
    ("experiments: " + "[" * 50_000 + "]" * 50_000 + "\n").encode(),
], ids=["latin1", "utf16", "deep"])
def test_unreadable_specs_are_one_line_exit_2(battery, tmp_path, content):
    """Latin-1, UTF-16 or absurdly nested spec files: one line naming the file, exit 2."""
    (battery / "length.yaml").write_bytes(content)
    line = _one_line(_build(battery, tmp_path / "b"), 2)
    assert "length.yaml" in line, line
    assert not (tmp_path / "b").exists()


def test_an_expensive_spec_is_refused_unless_allow_large(battery, tmp_path, monkeypatch):
    """A cell beyond the time limit: one line pointing at --allow-large, exit 2; with it the build runs."""
    path = battery / "length.yaml"
    path.write_text(path.read_text().replace("hidden: 4", "hidden: 1024").replace(
        "steps: 4, eval_every: 2, log_every: 2", "steps: 100000, eval_every: 1000, log_every: 100"))
    line = _one_line(_build(battery, tmp_path / "b"), 2)
    assert "--allow-large" in line, line
    calls = []
    monkeypatch.setattr(api, "execute", lambda cells, *a, **k: calls.append(len(cells)) or ([], {}))
    _build(battery, tmp_path / "b", "--allow-large")
    assert calls == [1]


# --------------------------------------------------------------- --debug

def test_debug_shows_the_traceback(battery, tmp_path):
    """With --debug the same error ends in its traceback instead of one line."""
    (tmp_path / "afile").write_text("mine")
    result = _build(battery, tmp_path / "afile" / "sub", debug=True)
    assert result.exit_code != 0
    assert result.exception is not None and not isinstance(result.exception, SystemExit)


def test_an_unexpected_error_is_one_line_pointing_at_debug(battery, tmp_path, monkeypatch):
    """A bug (here an invented one) is one line that names it and tells how to see the traceback."""
    def broken(*args, **kwargs):
        raise ZeroDivisionError("invented")
    monkeypatch.setattr(api, "_report", broken)
    line = _one_line(_build(battery, tmp_path / "b"), 1)
    assert "ZeroDivisionError" in line and "invented" in line and "--debug" in line, line


# --------------------------------------------------------------- Ctrl-C

def test_ctrl_c_while_weasyprint_draws_a_figure_stops_the_build(battery, tmp_path, monkeypatch):
    """SIGINT while WeasyPrint draws an SVG (its draw() swallows every exception) still reaches the
    caller as KeyboardInterrupt, and the outputs are left as they were."""
    import weasyprint.svg

    out = tmp_path / "b"
    kwargs = dict(profile="smoke", out=out, jobs=1, experiments_dir=battery, formats=("pdf",), progress=False)
    api.build(**kwargs)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    real_draw = weasyprint.svg.SVG.draw

    def interrupted_draw(self, *args, **kw):
        signal.raise_signal(signal.SIGINT)  # Ctrl-C lands inside WeasyPrint's try/except BaseException
        return real_draw(self, *args, **kw)
    monkeypatch.setattr(weasyprint.svg.SVG, "draw", interrupted_draw)
    with pytest.raises(KeyboardInterrupt):
        api.build(**kwargs, force_render=True)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not list(out.glob(".staging-*"))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_keyboard_interrupt_is_never_turned_into_an_error_line(battery, tmp_path, monkeypatch):
    """KeyboardInterrupt raised during rendering leaves api.build and the CLI's error wrapper as itself."""
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(document, "render_html", interrupted)
    result = _build(battery, tmp_path / "b")
    assert result.exit_code != 0 and result.exit_code not in (0, 2)
    with pytest.raises(KeyboardInterrupt):
        api.build("smoke", tmp_path / "b", jobs=1, experiments_dir=battery, formats=("html",), progress=False)
