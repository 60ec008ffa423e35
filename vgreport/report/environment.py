"""The template environment: jinja2's sandbox narrowed further, loaders that serve only plain files
inside their folder, the `prose` finalize every printed string passes, and the one-line
ReportTemplateError that names a template and line."""
from __future__ import annotations

import builtins
import math
import os
import re
import traceback
import types
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
import jinja2.utils
from markupsafe import Markup

from ..shipped import shipped_folder
from . import bounds
from .battery import battery_defaults, models_line, variant_models, varying_fields
from .context import date_text
from .exercises import for_finding
from .format import (
    _missing,
    ci,
    fixed,
    floor,
    fmt,
    keep_formulas,
    number_rows,
    pct,
    spell,
    state_word,
    typeset,
    verdict_class,
    verdict_words,
)


def shipped_templates_dir() -> Path:
    """templates/ inside an installed wheel, or at the top of the repository."""
    return shipped_folder("templates", "report.html.j2")


def _prose(text: Any, numbers: dict[str, int]) -> Markup:
    escaped = text if isinstance(text, Markup) else Markup.escape(str(text))
    named = re.sub(r"(?:&#39;|'|‘)([a-z][a-z0-9_]*)(?:&#39;|'|’)",
                   lambda m: f"E{numbers[m.group(1)]}" if m.group(1) in numbers else m.group(0), str(escaped))
    return keep_formulas(typeset(Markup(named)))


def first_sentence(text: str) -> str:
    """A caption's first sentence without its full stop ("Recall against length (mean ...)." ->
    "Recall against length (mean ...)"): a full stop followed by a space and a capital ends it."""
    head = re.split(r"(?<=[.!?])\s+(?=[A-Z])", str(text).strip(), maxsplit=1)[0]
    return head[:-1] if head.endswith(".") else head


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
    if isinstance(value, str):
        budget = getattr(env, "budget", None)
        if budget is not None:  # counted where it is printed, so a refusal names this line
            budget.printed(len(value))
        if not isinstance(value, Markup):
            return _prose(value, env.globals.get("experiment_numbers", {}))
    return value


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


MAX_TEMPLATE_BYTES = 4 << 20  # one template file (the largest shipped one is under 20 KB)


def check_templates(folder: Path | str) -> None:
    """A --templates folder, checked before any cell is trained (a mistake found after an hour of
    training wastes the hour): plain files only (template_files), names that are UTF-8 (a name
    that is not passed this check and failed after training, while hashing), and each template
    (*.j2, *.css) at most MAX_TEMPLATE_BYTES of UTF-8 that jinja can parse. ReportTemplateError,
    one line naming the file (and line), otherwise."""
    from ..store import read_regular
    folder = Path(folder)
    label = f"--templates {folder}"
    env = make_environment(folder)
    for path in template_files(folder):
        relative = path.relative_to(folder).as_posix()
        try:
            relative.encode("utf-8")
        except UnicodeEncodeError:
            raise ReportTemplateError(f"{label}: the file name {os.fsencode(relative)!r} is not UTF-8; "
                                      f"rename it") from None
        if path.suffix not in (".j2", ".css"):
            continue
        try:
            source = read_regular(path, MAX_TEMPLATE_BYTES).decode("utf-8")
        except OSError as exc:
            raise ReportTemplateError(f"{label}: {relative}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ReportTemplateError(f"{label}: {relative} is not UTF-8 text (byte {exc.start:,})") from None
        try:
            env.parse(source, relative, str(path))
        except jinja2.TemplateSyntaxError as exc:
            raise _template_error(env, exc) from None


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
        from .. import findings
        folder = Path(findings.__file__).resolve().parent
        super().__init__(folder, "shipped findings")
        self.names = {f"findings/{rid}.html.j2": path.relative_to(folder).as_posix()
                      for rid, path in findings.prose_templates().items()}

    def get_source(self, environment, template):
        if template not in self.names:
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, self.names[template])


class _Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """jinja2's sandbox, narrowed further. Attributes are read only from plain data (strings,
    numbers, dicts, lists, dates, markup, jinja's own helpers) and from vgreport's own objects:
    their fields, properties and methods, not those they inherit from pydantic. Paths, modules,
    numpy and pandas objects expose none, since their methods read and write files
    (Path.write_text, ndarray.tofile). Lists, dicts and sets cannot be changed in place (append,
    update: the immutable sandbox). No operation builds gigabytes, and a render has a budget of
    time, memory and page size: see report/bounds.py."""

    intercepted_binops = frozenset(("*", "**", "+", "%"))
    code_generator_class = bounds.BoundedCodeGenerator
    _PLAIN = frozenset(("builtins", "jinja2", "markupsafe", "datetime"))
    budget: bounds.Budget | None = None  # the render's, while render_html renders

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
        bounds.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (jinja's own signature)
        args = bounds.check_call(__obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def concat_bounded(self, join, parts):
        return bounds.concat(join, parts)

    def wrap_str_format(self, value):
        """str.format and format_map through a formatter that adds up the fields' widths (jinja's own
        sandboxed formatter, otherwise)."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__
        formatter = (bounds.BoundedEscapeFormatter(self, escape=text.escape) if isinstance(text, Markup)
                     else bounds.BoundedFormatter(self))
        is_map = value.__name__ == "format_map"

        def format_(*args, **kwargs):
            if is_map:
                if kwargs or len(args) != 1:
                    return wrapped(*args, **kwargs)  # jinja's error for the wrong arguments
                args, kwargs = (), args[0]
            return type(text)(formatter.vformat(text, args, kwargs))
        return format_

    def bounded_range(self, *args):
        numbers = jinja2.sandbox.safe_range(*args)  # at most MAX_RANGE (100,000) each
        if self.budget is not None:
            self.budget.count("range", len(numbers))
        return numbers

    def bounded_lipsum(self, n=5, html=True, min=20, max=100):  # noqa: A002 (jinja's names)
        if isinstance(n, int) and isinstance(max, int) and isinstance(min, int):
            words = n * builtins.max(min, max)
            if self.budget is not None:
                self.budget.count("lipsum", words)
            else:
                bounds.count_words(words)
        return jinja2.utils.generate_lorem_ipsum(n, html, min, max)


def make_environment(templates_dir: Path | str | None = None) -> jinja2.Environment:
    """Sandboxed, autoescaping jinja2 environment: the user's templates_dir first (any file there
    overrides the shipped one of the same name), then the shipped templates; filters fmt, pct, ci."""
    loaders = [_FolderLoader(Path(templates_dir), f"--templates {templates_dir}")] if templates_dir else []
    loaders += [_ProseLoader(), _FolderLoader(shipped_templates_dir(), "shipped templates")]
    # StrictUndefined: a mistyped name fails the build instead of printing "n/a".
    env = _Sandbox(loader=jinja2.ChoiceLoader(loaders), autoescape=True, finalize=_finalize,
                   undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(fmt=fmt, pct=pct, ci=ci, floor=floor, fixed=fixed, verdict_class=verdict_class, state_word=state_word,
                       keep_formulas=keep_formulas, typeset=typeset, prose=_prose_filter({}),
                       date_text=date_text, first_sentence=first_sentence, exp=math.exp)
    env.filters.update(bounds.bounded_filters(env.filters))
    env.globals.update(range=env.bounded_range, lipsum=env.bounded_lipsum)
    env.tests["known"] = lambda x: not _missing(x)  # `is not none` would let NaN through
    env.globals.update(variant_models=variant_models, models_line=models_line, varying_fields=varying_fields,
                       battery_defaults=battery_defaults, number_rows=number_rows, spell=spell, exercises=for_finding,
                       verdict_words=verdict_words,
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
