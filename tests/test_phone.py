"""report.html in a real browser, on a phone (390 px) and on a laptop (1280 px): every figure shown
whole in one layout, its text at least 11 px and none cut off, nothing scrolls sideways but tables
in boxes the keyboard reaches, and a <main> landmark. Headless Chromium lays the page out; the test
is skipped, saying so, where no Chromium or Chrome is installed (Debian: apt-get install chromium)."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vgreport.report import document

import helpers

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
BROWSER = os.environ.get("VGREPORT_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium or Chrome on PATH (e.g. apt-get install "
                                                        "chromium): the page's layout in a browser is not checked")
PROBE = Path(__file__).with_name("phone_probe.js")
MIN_TEXT_PX = 11


@pytest.fixture(scope="module")
def page(synthetic_drawn) -> str:
    """The whole report of the synthetic world (every finding decided, every figure drawn)."""
    return document.render_html(synthetic_drawn[2], helpers.report_context())


def measure(page: str, width: int, tmp_path: Path) -> dict:
    """What phone_probe.js measures in `page` laid out in a viewport `width` CSS px wide. The page
    sits in a frame of that width: a headless window is never narrower than 500 px, a frame is."""
    framed = page.replace("</body>", f"<script>{PROBE.read_text(encoding='utf-8')}</script></body>", 1)
    outer = tmp_path / f"probe-{width}.html"
    outer.write_text(f'<!DOCTYPE html><html><body style="margin: 0"><iframe style="border: 0" width="{width}" '
                     f'height="900" srcdoc="{html.escape(framed, quote=True)}"></iframe></body></html>',
                     encoding="utf-8")
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--hide-scrollbars", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
               f"--window-size={max(width, 800)},900", "--dump-dom", outer.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="vg-probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"{BROWSER} returned no measurement (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("width, layout", [(390, "narrow"), (1280, "wide")])
def test_every_figure_whole_and_readable_and_every_scroll_region_reachable(page, tmp_path, width, layout):
    got = measure(page, width, tmp_path)
    assert got["width"] == width
    assert got["main"] == 1, "the page needs exactly one <main> landmark"
    assert got["page_width"] <= width, f"the page scrolls sideways: {got['page_width']} px wide"
    figures = got["figures"]
    assert len(figures) >= 20, "the synthetic world should draw every figure and both diagrams"
    for figure in figures:
        assert len(figure["shown"]) == 1, f"{figure['id']}: {len(figure['shown'])} layouts shown"
        shown = figure["shown"][0]
        if figure["layouts"] == 2:  # the figure's narrow layout on a phone, its full one on a laptop
            assert shown["layout"] == layout, figure["id"]
        assert 0 <= shown["left"] and shown["right"] <= width, (figure["id"], shown)
        assert shown["smallest_text_px"] >= MIN_TEXT_PX, (figure["id"], shown["smallest_text_px"])
        assert not shown["cut_text"], (figure["id"], shown["cut_text"])
    # a box that scrolls (a table wider than a phone) is focusable, so the arrow keys scroll it, and named
    for scroller in got["scrollers"]:
        assert scroller["tabindex"] >= 0 and scroller["name"], scroller
