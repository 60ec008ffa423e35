"""Numbers and notation as the report prints them: the one formatter (fmt, pct, ci, floor, fixed)
used by the templates and by any Python that words a number, and `typeset`, which sets the one
sub/superscript rule (vgreport/notation.py; figure labels use it too) in HTML."""
from __future__ import annotations

import math
import numbers
import re
from typing import Any

import jinja2
import numpy as np
from markupsafe import Markup

from ..notation import SUBSCRIPT, SUPERSCRIPT


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
    # a look-behind, not (\S+): that one tried every start in a long word, quadratic in its length
    return Markup(_FORMULA_SPACES.sub("\u00a0\\1\u00a0", str(escaped)))


_FORMULA_SPACES = re.compile(r"(?<=\S) (=|≠|&lt;|&gt;|≤|≥|≈|∝) (?=\S)")





def _script(tag: str):
    def one(match: re.Match) -> str:
        body = match.group(match.lastindex)
        if body[0] in "({" and body[-1] in ")}":
            body = body[1:-1]
        base = match.group(1) if tag == "sub" else ""
        return f"{base}<{tag}>{body}</{tag}>"
    return one


_E_NOTATION = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)e([+\-−])0*(\d+)(?![\w.])")  # 1e-06, 3.1e−15


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
    return Markup(SUPERSCRIPT.sub(_script("sup"), SUBSCRIPT.sub(_script("sub"), escaped)))


def state_word(state) -> str:
    """A part's three-way state as the prose names it: holds, refuted or undetermined."""
    return "holds" if state is True else "refuted" if state is False else "undetermined"


def verdict_class(verdict: str) -> str:
    """'partly refuted' -> 'partly-refuted' (a CSS class)."""
    return re.sub(r"[^a-z]+", "-", str(verdict).lower()).strip("-")


def verdict_words(words) -> tuple:
    """say_verdict's words, refused unless each is a verdict or a check state: a misspelt or
    retired word would otherwise hide its sentence in every build."""
    from ..verdicts import REPORT_VERDICTS
    unknown = [w for w in words if w not in REPORT_VERDICTS]
    if unknown:
        raise ValueError(f"unknown verdict {', '.join(map(repr, unknown))}: say_verdict takes {', '.join(REPORT_VERDICTS)}")
    return tuple(words)


def spell(n: int) -> str:
    """Small counts in words, as prose wants them: 3 -> 'three'; 13 -> '13'."""
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
    return words[n] if 0 <= n < len(words) else fmt(n)


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
