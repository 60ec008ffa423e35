"""Drawings of the model (no data): SVG written directly so labels carry real 8-pt subscripts."""
from __future__ import annotations

import math

from .style import FULL_WIDTH_IN, MIN_TEXT_PT, NARROW_WIDTH_IN
from .svg import tidy_svg

INK = "#1a1a1a"
WIRE = "#777777"
GRADIENT = "#D55E00"  # the backward path: vermillion, and dashed, so it survives grayscale


class _Sketch:
    """Boxes, circles, arrows and labels written as SVG directly: a diagram needs no axes, and its
    labels can carry real subscripts (h_{t-1}: a <tspan> at 8 pt on a 10 pt label), which matplotlib
    text could only draw through mathtext at 70% size. Units are points; output is deterministic."""

    def __init__(self, width: float, height: float):
        self.width, self.height = width, height
        self.parts: list[str] = []

    def line(self, points, color: str = WIRE, width: float = 1.0, dash: str | None = None,
             arrow: bool = False, head: float = 5.0) -> None:
        """A polyline; with arrow=True, a filled arrowhead at its last point (not a <marker>)."""
        pts = [tuple(map(float, p)) for p in points]
        if arrow:  # stop the stroke inside the head so its butt end does not poke through the tip
            (x0, y0), (x1, y1) = pts[-2], pts[-1]
            length = math.hypot(x1 - x0, y1 - y0)
            ux, uy = (x1 - x0) / length, (y1 - y0) / length
            pts[-1] = (x1 - ux * head * 0.8, y1 - uy * head * 0.8)
        d = "M " + " L ".join(f"{x:.2f} {y:.2f}" for x, y in pts)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width:g}"{dash_attr}/>')
        if arrow:
            bx, by = x1 - ux * head, y1 - uy * head
            wx, wy = -uy * head * 0.45, ux * head * 0.45
            self.parts.append(f'<path d="M {x1:.2f} {y1:.2f} L {bx + wx:.2f} {by + wy:.2f} '
                              f'L {bx - wx:.2f} {by - wy:.2f} z" fill="{color}"/>')

    def box(self, x: float, y: float, w: float, h: float, label: str = "", size: float = 10,
            fill: str = "#ffffff", stroke: str = INK, width: float = 1.0) -> None:
        """A rounded box centred at (x, y) with a centred label."""
        self.parts.append(f'<rect x="{x - w / 2:.2f}" y="{y - h / 2:.2f}" width="{w:.2f}" height="{h:.2f}" rx="3" '
                          f'fill="{fill}" stroke="{stroke}" stroke-width="{width:g}"/>')
        if label:
            self.text(x, y + size * 0.35, label, size)

    def circle(self, x: float, y: float, r: float, label: str = "", size: float = 11, stroke: str = INK,
               width: float = 1.0) -> None:
        self.parts.append(f'<circle cx="{x:.2f}" cy="{y:.2f}" r="{r:.2f}" fill="#ffffff" stroke="{stroke}" '
                          f'stroke-width="{width:g}"/>')
        if label:
            self.text(x, y + size * 0.36, label, size)

    def text(self, x: float, y: float, markup: str, size: float = 10, anchor: str = "middle",
             color: str = INK, bold: bool = False) -> None:
        """A label at baseline (x, y). In `markup`, _x or _{...} is a subscript and ^x or ^{...} a
        superscript, set at MIN_TEXT_PT (8 pt) and shifted; the rest at `size`."""
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size:g}" font-family="DejaVu Sans, sans-serif" '
                          f'text-anchor="{anchor}" fill="{color}"{weight}>{_tspans(markup, size)}</text>')

    def svg(self, key: str) -> str:
        body = "\n".join(self.parts)
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.2f}pt" height="{self.height:.2f}pt" '
               f'viewBox="0 0 {self.width:.2f} {self.height:.2f}" version="1.1">\n'
               f'<rect width="{self.width:.2f}" height="{self.height:.2f}" fill="#ffffff"/>\n{body}\n</svg>\n')
        return tidy_svg(svg)


def _tspans(markup: str, size: float) -> str:
    """'h_{t-1} = φ(a_t)' -> escaped text with <tspan>s for scripts (baseline moved with dy, then back)."""
    from html import escape

    out, shift, i = [], 0.0, 0
    while i < len(markup):
        ch = markup[i]
        if ch in "_^" and i + 1 < len(markup):
            if markup[i + 1] == "{":
                end = markup.index("}", i)
                script, i = markup[i + 2:end], end + 1
            else:
                script, i = markup[i + 1], i + 2
            dy = size * (0.3 if ch == "_" else -0.38)
            out.append(f'<tspan dy="{dy - shift:.2f}" font-size="{MIN_TEXT_PT}">{escape(script)}</tspan>')
            shift = dy
            continue
        j = i
        while j < len(markup) and markup[j] not in "_^":
            j += 1
        chunk = escape(markup[i:j])
        out.append(f'<tspan dy="{-shift:.2f}">{chunk}</tspan>' if shift else chunk)
        shift, i = 0.0, j
    return "".join(out)


def _backward(sk, back: list, columns: list, x_loss: float, y_h: float, y_back: float) -> None:
    """The backward path of the unrolled RNN (both layouts): dashed arrows right to left, each step's
    Jacobian written above it, and a thin drop from every state (and the loss) to the path."""
    for x0, x1, j in back:
        sk.line([(x0 - 4, y_back), (x1 + 4, y_back)], color=GRADIENT, width=2.2, dash="6 3", arrow=True, head=7)
        if j is not None:
            sk.text((x0 + x1) / 2, y_back - 20, f"× diag(φ′(a_{j}))", 9, color=INK)
            sk.text((x0 + x1) / 2, y_back - 8, "· W_{hh}", 9, color=INK)
    for x, t in columns:
        if t is not None:
            sk.line([(x, y_h - 12), (x, y_back + 3)], color=GRADIENT, width=0.8, dash="2 2")
    sk.line([(x_loss, y_h - 12), (x_loss, y_back)], color=GRADIENT, width=0.8, dash="2 2")


def unrolled_rnn(narrow: bool = False) -> str:
    """The RNN unrolled over steps 1, 2, 3, …, T with the loss at the end, and the backward
    gradient path: from L back to h_1, each step back multiplies by one Jacobian diag(φ′(a_j))·W_hh.
    narrow: the layout for a phone (NARROW_WIDTH_IN wide: steps 1, 2, …, T; the text on more lines)."""
    if narrow:
        return _unrolled_rnn_narrow()
    sk = _Sketch(FULL_WIDTH_IN * 72, 184)
    columns = [(48, "1"), (148, "2"), (248, "3"), (330, None), (405, "T")]
    y_h, y_x, y_back = 106, 150, 60
    previous = None
    for x, t in columns:
        if t is None:
            sk.text(x, y_h + 4, "…", 12)
            sk.text(x, y_x + 4, "…", 12)
            previous = x
            continue
        sk.box(x, y_h, 38, 24, f"h_{t}", 11)
        sk.circle(x, y_x, 11, f"x_{t}", 10)
        sk.line([(x, y_x - 11), (x, y_h + 12)], arrow=True)
        if previous is not None:
            sk.line([(previous + (12 if t == "T" else 19), y_h), (x - 19, y_h)], arrow=True)
        elif t == "1":
            sk.line([(8, y_h), (x - 19, y_h)], arrow=True)
            sk.text(8, y_h - 5, "h_0", 9, anchor="start")
        previous = x
    sk.line([(columns[2][0] + 19, y_h), (columns[3][0] - 12, y_h)], arrow=True)
    sk.box(440, y_h, 24, 24, "L", 11, fill="#f1f1f1")
    sk.line([(columns[4][0] + 19, y_h), (428, y_h)], arrow=True)
    sk.text(4, y_x + 28, "forward (grey): h_t = φ(a_t),  a_t = W_{hh} h_{t−1} + W_{xh} x_t + b", 9, anchor="start")
    # the backward path, above the states, right to left
    _backward(sk, [(440, 405, None), (405, 330, None), (330, 248, "4"), (248, 148, "3"), (148, 48, "2")],
              columns, 440, y_h, y_back)
    sk.text(367, y_back - 8, "T − 4 more", 9)
    sk.text(4, 12, "backward (dashed): ∂L/∂h_1 = ∂L/∂h_T · ∂h_T/∂h_1, a product of T − 1 Jacobians, so", 9,
            anchor="start")
    sk.text(4, 25, "‖∂h_T/∂h_1‖ ≤ (γ·σ_{max})^{T−1}  (Pascanu et al. 2013)", 9, anchor="start")
    return sk.svg("diagram-unrolled-rnn")


def _unrolled_rnn_narrow() -> str:
    sk = _Sketch(NARROW_WIDTH_IN * 72, 236)
    columns = [(34, "1"), (98, "2"), (146, None), (192, "T")]
    y_h, y_x, y_back, half = 142, 186, 92, 17
    previous = None
    for x, t in columns:
        if t is None:
            sk.text(x, y_h + 4, "…", 12)
            sk.text(x, y_x + 4, "…", 12)
            sk.line([(previous + half, y_h), (x - 10, y_h)], arrow=True)
            previous = x
            continue
        sk.box(x, y_h, 2 * half, 24, f"h_{t}", 11)
        sk.circle(x, y_x, 11, f"x_{t}", 10)
        sk.line([(x, y_x - 11), (x, y_h + 12)], arrow=True)
        if previous is not None:
            sk.line([(previous + (10 if t == "T" else half), y_h), (x - half, y_h)], arrow=True)
        else:
            sk.line([(4, y_h), (x - half, y_h)], arrow=True)
            sk.text(4, y_h - 5, "h_0", 9, anchor="start")
        previous = x
    x_loss = 230
    sk.box(x_loss, y_h, 24, 24, "L", 11, fill="#f1f1f1")
    sk.line([(columns[-1][0] + half, y_h), (x_loss - 12, y_h)], arrow=True)
    sk.text(4, y_x + 28, "forward (grey): h_t = φ(a_t),", 9, anchor="start")
    sk.text(4, y_x + 41, "a_t = W_{hh} h_{t−1} + W_{xh} x_t + b", 9, anchor="start")
    _backward(sk, [(x_loss, 192, None), (192, 146, None), (146, 98, None), (98, 34, "2")], columns, x_loss,
              y_h, y_back)
    sk.text(169, y_back - 8, "T − 2 more", 9)
    for i, line in enumerate(("backward (dashed):", "∂L/∂h_1 = ∂L/∂h_T · ∂h_T/∂h_1, a product",
                              "of T − 1 Jacobians, so", "‖∂h_T/∂h_1‖ ≤ (γ·σ_{max})^{T−1}  (Pascanu et al. 2013)")):
        sk.text(4, 12 + 13 * i, line, 9, anchor="start")
    return sk.svg("diagram-unrolled-rnn")


def lstm_cell(narrow: bool = False) -> str:
    """One LSTM step: the cell state runs along the top, c_{t−1} → × f_t → + → c_t, an additive
    path (highlighted) on which the gradient is multiplied only by the forget gate f_t; gates below
    (f_t, i_t, o_t are gate values in (0, 1); z_t is the candidate update, the activation φ is not on this path).
    narrow: the layout for a phone (NARROW_WIDTH_IN wide: the gates named below the drawing)."""
    if narrow:
        return _lstm_cell_narrow()
    sk = _Sketch(FULL_WIDTH_IN * 72, 200)
    y_c, y_mix, y_gate, y_bus = 62, 104, 140, 186
    x_forget, x_plus, x_out = 150, 262, 378
    # the cell-state highway (the gradient's path), thick and black
    sk.line([(42, y_c), (x_forget - 11, y_c)], color=INK, width=3)
    sk.line([(x_forget + 11, y_c), (x_plus - 11, y_c)], color=INK, width=3)
    sk.line([(x_plus + 11, y_c), (428, y_c)], color=INK, width=3, arrow=True, head=8)
    sk.text(8, y_c + 4, "c_{t−1}", 11, anchor="start")
    sk.text(432, y_c + 4, "c_t", 11, anchor="start")
    sk.text(46, y_c + 16, "cell state", 9, anchor="start")
    sk.circle(x_forget, y_c, 11, "×", 12, width=1.6)
    sk.circle(x_plus, y_c, 11, "+", 12, width=1.6)
    # the gradient flowing back along it
    sk.line([(426, y_c - 22), (46, y_c - 22)], color=GRADIENT, width=2.2, dash="6 3", arrow=True, head=7)
    sk.text(236, y_c - 30, "gradient: ∂c_t/∂c_{t−1} = f_t, element-wise; no W_{hh}, no φ′ on this path", 9)
    # gates from [h_{t−1}, x_t]
    sk.line([(20, y_bus), (x_out + 40, y_bus)], color=WIRE)
    sk.text(8, y_bus - 5, "h_{t−1}, x_t", 10, anchor="start")
    gates = [(x_forget, "σ", "f_t"), (222, "σ", "i_t"), (302, "tanh", "z_t"), (x_out + 40, "σ", "o_t")]
    for x, name, _ in gates:
        sk.line([(x, y_bus), (x, y_gate + 11)], arrow=True)
        sk.box(x, y_gate, 34, 20, name, 10, fill="#f1f1f1")
    sk.line([(x_forget, y_gate - 10), (x_forget, y_c + 11)], arrow=True)
    sk.text(x_forget + 6, (y_c + y_mix) / 2 + 3, "× f_t", 9, anchor="start")
    sk.circle(x_plus, y_mix, 9, "×", 11)
    sk.line([(222, y_gate - 10), (222, y_mix), (x_plus - 9, y_mix)], arrow=True)
    sk.line([(302, y_gate - 10), (302, y_mix), (x_plus + 9, y_mix)], arrow=True)
    sk.line([(x_plus, y_mix - 9), (x_plus, y_c + 11)], arrow=True)
    sk.text(x_plus + 6, (y_c + y_mix) / 2 + 3, "+ i_t ⊙ z_t", 9, anchor="start")
    for x, name in ((x_forget, "forget f_t"), (222, "input i_t"), (302, "candidate z_t")):
        sk.text(x + 4, y_gate + 22, name, 9, anchor="start")
    sk.text(x_out + 36, y_gate + 22, "output o_t", 9, anchor="end")
    # the output: h_t = o_t ⊙ tanh(c_t)
    sk.line([(x_out, y_c), (x_out, y_mix - 11)], arrow=True)
    sk.box(x_out, y_mix, 34, 18, "tanh", 9, fill="#f1f1f1")
    sk.circle(x_out + 40, y_mix, 9, "×", 11)
    sk.line([(x_out + 17, y_mix), (x_out + 31, y_mix)], arrow=True)
    sk.line([(x_out + 40, y_gate - 10), (x_out + 40, y_mix + 9)], arrow=True)
    sk.line([(x_out + 49, y_mix), (x_out + 62, y_mix)], arrow=True)
    sk.text(x_out + 63, y_mix + 4, "h_t", 11, anchor="start")
    return sk.svg("diagram-lstm-cell")


def _lstm_cell_narrow() -> str:
    sk = _Sketch(NARROW_WIDTH_IN * 72, 232)
    y_c, y_mix, y_gate, y_bus = 62, 104, 140, 182
    x_forget, x_input, x_plus, x_cand, x_out, x_gate_o = 64, 104, 132, 152, 184, 214
    sk.line([(38, y_c), (x_forget - 11, y_c)], color=INK, width=3)
    sk.line([(x_forget + 11, y_c), (x_plus - 11, y_c)], color=INK, width=3)
    sk.line([(x_plus + 11, y_c), (212, y_c)], color=INK, width=3, arrow=True, head=8)
    sk.text(4, y_c + 4, "c_{t−1}", 11, anchor="start")
    sk.text(215, y_c + 4, "c_t", 11, anchor="start")
    sk.text(x_plus + 14, y_c - 6, "cell state", 9, anchor="start")
    sk.circle(x_forget, y_c, 11, "×", 12, width=1.6)
    sk.circle(x_plus, y_c, 11, "+", 12, width=1.6)
    sk.line([(210, y_c - 22), (40, y_c - 22)], color=GRADIENT, width=2.2, dash="6 3", arrow=True, head=7)
    sk.text(4, 12, "gradient: ∂c_t/∂c_{t−1} = f_t, element-wise;", 9, anchor="start")
    sk.text(4, 25, "no W_{hh}, no φ′ on this path", 9, anchor="start")
    sk.line([(20, y_bus), (x_gate_o, y_bus)], color=WIRE)
    sk.text(4, y_bus + 14, "h_{t−1}, x_t", 10, anchor="start")
    gates = [(x_forget, "σ", "f_t"), (x_input, "σ", "i_t"), (x_cand, "tanh", "z_t"), (x_gate_o, "σ", "o_t")]
    for x, name, value in gates:
        sk.line([(x, y_bus), (x, y_gate + 11)], arrow=True)
        sk.box(x, y_gate, 30 if name == "tanh" else 24, 20, name, 10, fill="#f1f1f1")
        sk.text(x + 4, y_gate + 26, value, 9, anchor="start")
    sk.line([(x_forget, y_gate - 10), (x_forget, y_c + 11)], arrow=True)
    sk.text(x_forget - 5, (y_c + y_mix) / 2 + 3, "× f_t", 9, anchor="end")
    sk.circle(x_plus, y_mix, 9, "×", 11)
    sk.line([(x_input, y_gate - 10), (x_input, y_mix), (x_plus - 9, y_mix)], arrow=True)
    sk.line([(x_cand, y_gate - 10), (x_cand, y_mix), (x_plus + 9, y_mix)], arrow=True)
    sk.line([(x_plus, y_mix - 9), (x_plus, y_c + 11)], arrow=True)
    sk.text(x_plus + 5, (y_c + y_mix) / 2 + 3, "+ i_t ⊙ z_t", 9, anchor="start")
    sk.line([(x_out, y_c), (x_out, y_mix - 9)], arrow=True)
    sk.box(x_out, y_mix, 28, 18, "tanh", 9, fill="#f1f1f1")
    sk.circle(x_gate_o, y_mix, 8, "×", 10)
    sk.line([(x_out + 14, y_mix), (x_gate_o - 8, y_mix)])
    sk.line([(x_gate_o, y_gate - 10), (x_gate_o, y_mix + 8)], arrow=True)
    sk.line([(x_gate_o + 8, y_mix), (x_gate_o + 18, y_mix)], arrow=True)
    sk.text(x_gate_o + 4, y_mix - 12, "h_t", 10, anchor="start")
    sk.text(4, y_bus + 28, "gates: forget f_t, input i_t, output o_t;", 9, anchor="start")
    sk.text(4, y_bus + 41, "candidate update z_t", 9, anchor="start")
    return sk.svg("diagram-lstm-cell")


# Drawings of the model, not of data: the notation section places them by name.
DIAGRAMS = {"unrolled_rnn": unrolled_rnn, "lstm_cell": lstm_cell}
