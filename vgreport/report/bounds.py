"""What a template may build, and for how long: the bounds of the report's sandbox (issue 29).

A --templates folder can hold a hostile template, so rendering is bounded three ways:

- **Per operation**, checked from the arguments before anything is built: no filter, string
  method, `%`, `str.format`, `~`, `+` or `*` builds a string over MAX_STRING characters, a list over
  MAX_ITEMS items or an integer over MAX_INT_BITS bits; `range()` hands out at most
  MAX_RANGE_TOTAL numbers in one render (each range at most jinja's 100,000), `lipsum()` at most
  MAX_LIPSUM_WORDS words. A single operation therefore ends within seconds.
- **Per render**, by a watchdog thread: the page must be rendered (figures drawn) within
  RENDER_SECONDS and with at most RENDER_MEMORY of resident memory added; past either, the
  rendering thread gets an exception at its next Python instruction, and the traceback names the
  template line it was on.
- **The page** (streamed as it is rendered): at most MAX_PAGE characters.

Each refusal is a TemplateLimitError (a jinja2 SecurityError), which render_html turns into
ReportTemplateError: one line naming the template and line.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import inspect
import os
import re
import sys
import threading
import time
from typing import Any, Callable, Iterator

import jinja2.compiler
import jinja2.filters
import jinja2.sandbox

MAX_STRING = 10_000_000      # characters one operation may build (the standard report's page: under 700 KB)
MAX_ITEMS = 1_000_000        # items of a list or tuple one operation may build
MAX_INT_BITS = 100_000       # bits of an integer from * or ** (30,000 decimal digits)
MAX_RANGE_TOTAL = 1_000_000  # numbers range() hands out in one render
MAX_LIPSUM_WORDS = 100_000   # words lipsum() writes in one render
MAX_TOJSON_INDENT = 100      # tojson's indent (its encoder builds indent x depth characters per line)
MAX_PAGE = 10_000_000        # characters of the page (the standard report's: under 700 KB), also counted as
                             # {{ }} prints them (1.7 million for the quick report: macros' output counts twice)
RENDER_SECONDS = 120.0       # the whole page, both passes; the quick report renders in 3-4 s on 2 busy cores
RENDER_MEMORY = 256 << 20    # resident memory the rendering may add; the quick report adds 2 MB


class TemplateLimitError(jinja2.sandbox.SecurityError):
    """A template asked for more than a bound allows (the message says which, with the numbers)."""


class RenderTooSlow(TemplateLimitError):
    """Raised in the rendering thread by the watchdog (built without arguments)."""

    def __str__(self) -> str:
        return f"the page took longer than {RENDER_SECONDS:g} s to render, the render budget"


class RenderTooLarge(TemplateLimitError):
    """Raised in the rendering thread by the watchdog (built without arguments)."""

    def __str__(self) -> str:
        return f"rendering the page took more than {RENDER_MEMORY / 2**20:,.0f} MiB of memory, the render budget"


def _refuse(what: str, size: int, limit: int, unit: str = "characters") -> None:
    if size > limit:
        raise TemplateLimitError(f"{what} would build {size:,} {unit}, over the limit of {limit:,}")


# ------------------------------------------------------------------ sizes of results, from arguments

def _length(value: Any) -> int:
    """Characters value prints as (str() of anything that is not text, which is as big as it is)."""
    if isinstance(value, (str, bytes, bytearray)):
        return len(value)
    try:
        return len(str(value))
    except ValueError:  # an integer over Python's 4,300-digit conversion limit: the operation fails anyway
        return 0


def _numbers(spec: str) -> int:
    """The sum of the numbers written in a format specification (widths, precisions); a run of
    more than 18 digits counts as 10**18."""
    return sum(int(run) if len(run) <= 18 else 10**18 for run in re.findall(r"\d+", spec))


_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?[a-zA-Z%]")


def check_printf(fmt: Any, values: Any, what: str = "%") -> None:
    """`fmt % values` (and the `format` filter): the widths and precisions it asks for, `*` ones
    included, plus the text of its values and of the format itself."""
    if not isinstance(fmt, (str, bytes)):
        return
    text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
    specs = [m.group(0) for m in _PRINTF.finditer(text)]
    values = values if isinstance(values, tuple) else (values,)
    size = len(text) + sum(_numbers(s) + 400 for s in specs)
    if any("*" in s for s in specs):
        size += sum(abs(v) for v in values if isinstance(v, int))
    if isinstance(values, tuple) and len(values) == 1 and isinstance(values[0], dict):
        values = tuple(values[0].values())
    size += sum(_length(v) for v in values)
    _refuse(what, size, MAX_STRING)


class _BoundedFormatterMixin:
    """str.format and format_map: each field's width and precision, and the fields' text, add up."""

    built = 0

    def vformat(self, format_string, args, kwargs):
        self.built = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value, format_spec):
        self.built += _numbers(format_spec) + 16 * len(format_spec) + _length(value) + 400
        _refuse("str.format", self.built, MAX_STRING)
        return super().format_field(value, format_spec)


class BoundedFormatter(_BoundedFormatterMixin, jinja2.sandbox.SandboxedFormatter):
    pass


class BoundedEscapeFormatter(_BoundedFormatterMixin, jinja2.sandbox.SandboxedEscapeFormatter):
    pass


def check_binop(operator: str, left: Any, right: Any) -> None:
    """The operators a template can use to grow a value: *, **, + and %."""
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, bytes)) and isinstance(times, int):
                _refuse(f"{len(seq):,} x {times:,}", len(seq) * times, MAX_STRING)
            elif isinstance(seq, (list, tuple)) and isinstance(times, int):
                _refuse(f"{len(seq):,} x {times:,}", len(seq) * times, MAX_ITEMS, "items")
        if isinstance(left, int) and isinstance(right, int):
            _refuse("*", left.bit_length() + right.bit_length(), MAX_INT_BITS, "bits")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0:
            _refuse(f"{left} ** {right}", right * abs(left).bit_length(), MAX_INT_BITS, "bits")
    elif operator == "+":
        if isinstance(left, (str, bytes)) and isinstance(right, (str, bytes)):
            _refuse("+", len(left) + len(right), MAX_STRING)
        elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
            _refuse("+", len(left) + len(right), MAX_ITEMS, "items")
    elif operator == "%":
        check_printf(left, right)


def concat(join: Callable, parts: tuple) -> str:
    """`a ~ b ~ ...` (compiled to this by BoundedCodeGenerator): the parts' text, before joining."""
    _refuse("~", sum(_length(p) for p in parts), MAX_STRING)
    return join(parts)


class BoundedCodeGenerator(jinja2.compiler.CodeGenerator):
    """jinja2's compiler, with `~` joined through the environment's bounded `concat` (jinja has no
    hook for it: a string doubled with `~` in a loop passed 3 GB in 19 s)."""

    @jinja2.compiler.optimizeconst
    def visit_Concat(self, node, frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.concat_bounded({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


_TEXT = (str, bytes, bytearray)


def check_call(obj: Any, args: tuple, kwargs: dict) -> tuple:
    """A string method that can grow its string (center, ljust, rjust, zfill, expandtabs, replace,
    join, translate), checked from its arguments; returns the arguments to call with (join's
    iterable made a list, so that measuring it does not use it up)."""
    owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
    if not isinstance(owner, _TEXT):
        return args
    n = len(owner)
    try:
        if name in ("center", "ljust", "rjust", "zfill"):
            width = (args or (kwargs.get("width", 0),))[0]
            if isinstance(width, int):
                _refuse(f"{name}({width:,})", max(n, width), MAX_STRING)
        elif name == "expandtabs":
            size = (args or (kwargs.get("tabsize", 8),))[0]
            if isinstance(size, int):
                _refuse(f"expandtabs({size:,})", n + owner.count("\t" if isinstance(owner, str) else b"\t") * size,
                        MAX_STRING)
        elif name == "replace" and len(args) >= 2:
            _check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else kwargs.get("count", -1))
        elif name == "join" and args:
            items = list(args[0])
            _refuse("join", sum(_length(i) for i in items) + n * max(len(items) - 1, 0), MAX_STRING)
            return (items, *args[1:])
        elif name == "translate" and args and isinstance(owner, str) and isinstance(args[0], dict):
            longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
            _refuse("translate", n * max(longest, 1), MAX_STRING)
    except TypeError:
        pass  # arguments of the wrong kind: the call itself says so
    return args


def _check_replace(s, old, new, count) -> None:
    if not (isinstance(old, _TEXT) and isinstance(new, _TEXT)):
        return
    found = len(s) + 1 if not old else s.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    _refuse("replace", len(s) + found * max(len(new) - len(old), 0), MAX_STRING)


# ------------------------------------------------------------------ filters and globals

def _checked(original: Callable, check: Callable[[dict], dict | None]) -> Callable:
    """original (a jinja filter, its pass_* marker kept by functools.wraps), after check(arguments
    by name) has accepted them; check may return replaced arguments."""
    signature = inspect.signature(original)  # the sync function's, for jinja's async variants
    # an async variant of a filter that takes no context is called with the eval context first
    extra = 1 if getattr(original, "jinja_pass_arg", None) and not signature.parameters.keys() & {
        "eval_ctx", "environment", "env", "context"} else 0

    @functools.wraps(original)
    def filter_(*args, **kwargs):
        bound = signature.bind(*args[extra:], **kwargs)
        bound.apply_defaults()
        replaced = check(bound.arguments)
        if replaced:
            bound.arguments.update(replaced)
            return original(*args[:extra], *bound.args, **bound.kwargs)
        return original(*args, **kwargs)
    return filter_


def _center(a):
    if isinstance(a["width"], int):
        _refuse(f"center({a['width']:,})", max(_length(a["value"]), a["width"]), MAX_STRING)


def _indent(a):
    text, width = str(a["s"]), a["width"]
    per_line = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    _refuse("indent", len(text) + (text.count("\n") + 1) * per_line, MAX_STRING)


def _wordwrap(a):
    text, width, wrap = str(a["s"]), a["width"], a["wrapstring"]
    if isinstance(width, int) and width > 0:
        # greedy filling: two neighbouring lines hold more than `width` characters together
        lines = 2 * len(text) // width + text.count("\n") + 2
        _refuse("wordwrap", len(text) + lines * len(wrap if isinstance(wrap, str) else "\n"), MAX_STRING)


def _format(a):
    check_printf(a["value"], a["kwargs"] or a["args"], "format")


def _replace(a):
    _check_replace(str(a["s"]), a["old"], a["new"], a["count"] if a["count"] is not None else -1)


def _join(a):
    items = list(a["value"])
    if a["attribute"] is not None:
        items = list(map(jinja2.filters.make_attrgetter(a["eval_ctx"].environment, a["attribute"]), items))
    _refuse("join", sum(_length(i) for i in items) + _length(a["d"]) * max(len(items) - 1, 0), MAX_STRING)
    return {"value": items, "attribute": None}


def _batch(a):
    if a["fill_with"] is not None and isinstance(a["linecount"], int):
        _refuse(f"batch({a['linecount']:,}, fill_with)", a["linecount"], MAX_ITEMS, "items")


def _slice(a):
    if isinstance(a["slices"], int):
        _refuse(f"slice({a['slices']:,})", a["slices"], MAX_ITEMS, "lists")


def _tojson(a):
    indent = a["indent"]
    size = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    _refuse("tojson's indent", size, MAX_TOJSON_INDENT)


def _sum(a):
    """Numbers pass; sequences (`sum(start=())`, as macros.html.j2 concatenates parts) are added
    one after another in C, each addition copying what came before: bounded in the items of the
    result and in the items copied."""
    if isinstance(a["start"], (int, float)):
        return None
    items = list(a["iterable"])
    if a["attribute"] is not None:
        items = list(map(jinja2.filters.make_attrgetter(a["environment"], a["attribute"]), items))
    sizes = [len(i) if isinstance(i, (list, tuple, str)) else 1 for i in items]
    total = _length(a["start"]) if isinstance(a["start"], str) else len(a["start"]) if isinstance(
        a["start"], (list, tuple)) else 1
    copied = 0
    for size in sizes:
        total += size
        copied += total
    _refuse("sum", total, MAX_ITEMS, "items")
    _refuse("sum", copied, 10 * MAX_ITEMS, "items copied")
    return {"iterable": items, "attribute": None}


FILTER_CHECKS = {"center": _center, "indent": _indent, "wordwrap": _wordwrap, "format": _format,
                 "replace": _replace, "join": _join, "batch": _batch, "slice": _slice, "tojson": _tojson,
                 "sum": _sum}


def bounded_filters(filters: dict) -> dict:
    """jinja's filters that can build more than their input, each checked first."""
    return {name: _checked(filters[name], check) for name, check in FILTER_CHECKS.items()}


def count_words(words: int) -> None:
    _refuse("lipsum()", words, MAX_LIPSUM_WORDS, "words")


# ------------------------------------------------------------------ the render budget

def _resident_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None  # not Linux: the memory budget is not enforced (the per-operation bounds are)


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Have `thread_id` raise `exception` at its next Python instruction (None: forget one pending)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exception) if exception else None)


class Budget:
    """One render's budget: the numbers range() and lipsum() handed out, and a watchdog thread that
    raises RenderTooSlow or RenderTooLarge in the rendering thread (again every half second, should
    something swallow it) once the time or the memory is spent."""

    POLL = 0.02

    def __init__(self, seconds: float | None = None, memory: int | None = None):
        self.seconds = RENDER_SECONDS if seconds is None else seconds
        self.memory = RENDER_MEMORY if memory is None else memory
        self.ranged = self.words = self.characters = 0
        self.exceeded: type[TemplateLimitError] | None = None
        self._stop = threading.Event()
        self._target = threading.get_ident()
        self._thread: threading.Thread | None = None

    def printed(self, n: int) -> None:
        self.characters += n
        _refuse("the page", self.characters, MAX_PAGE, "characters, counted as {{ }} prints them,")

    def count(self, what: str, n: int) -> None:
        if what == "range":
            self.ranged += n
            _refuse("range() in this render", self.ranged, MAX_RANGE_TOTAL, "numbers")
        else:
            self.words += n
            count_words(self.words)

    def _watch(self, deadline: float, base: int | None) -> None:
        while not self._stop.wait(self.POLL):
            if self.exceeded is None:
                resident = _resident_bytes() if base is not None else None
                if time.monotonic() > deadline:
                    self.exceeded = RenderTooSlow
                elif resident is not None and resident - base > self.memory:
                    self.exceeded = RenderTooLarge
            if self.exceeded is not None:
                _raise_in(self._target, self.exceeded)
                self._stop.wait(0.5)

    def _unraisable(self, report) -> None:
        """The watchdog's exception can land in a garbage-collector callback or a __del__, where
        Python prints it as "Exception ignored in ..." and drops it; the watchdog sends it again,
        so that message is noise: drop it, pass every other report on."""
        if isinstance(report.exc_value, TemplateLimitError) or (
                isinstance(report.exc_type, type) and issubclass(report.exc_type, TemplateLimitError)):
            return
        self._hook(report)

    def __enter__(self) -> "Budget":
        self._hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        self._thread = threading.Thread(target=self._watch, name="vgreport-render-budget", daemon=True,
                                        args=(time.monotonic() + self.seconds, _resident_bytes()))
        self._thread.start()
        return self

    def __exit__(self, kind, exc, tb) -> None:
        while True:  # an exception the watchdog sent may arrive during this clean-up: finish it anyway
            try:
                self._stop.set()
                self._thread.join()
                _raise_in(self._target, None)
                break
            except TemplateLimitError:
                continue
        if sys.unraisablehook == self._unraisable:
            sys.unraisablehook = self._hook
        if self.exceeded is not None and exc is None:
            # the rendering finished although the budget ran out (something swallowed the exception)
            raise self.exceeded()


def render_page(template: jinja2.Template, values: dict, block: str | None = None) -> str:
    """template.render(**values), or only its `block`, streamed, refused once the page passes
    MAX_PAGE characters (the exception is thrown into the template where it stands, so the error
    names that line)."""
    pieces, size = [], 0
    stream = template.generate(**values) if block is None else template.blocks[block](template.new_context(values))
    try:
        for piece in stream:
            size += len(piece)
            if size > MAX_PAGE:
                stream.throw(TemplateLimitError(f"the page passed {MAX_PAGE:,} characters, the limit of a page"))
            pieces.append(piece)
    finally:
        stream.close()
    return "".join(pieces)


@contextlib.contextmanager
def budget(env) -> Iterator[Budget]:
    """The environment's budget for one render (range and lipsum count against it)."""
    with Budget() as spent:
        env.budget = spent
        try:
            yield spent
        finally:
            env.budget = None
