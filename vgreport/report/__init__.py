"""The document: findings and figures -> report.html (jinja2) and report.pdf (WeasyPrint).

One module per job: `format` (numbers and notation for prose), `svg` (inline SVG: tidying,
accessibility, equations, diagrams), `environment` (the sandboxed jinja environment and template
errors), `battery` (what templates say about the experiments), `teaching` (the glance page and the
worked example), `document` (render_html, render_report), `selfcontained` (the external-reference
check) and `pdf` (WeasyPrint output). This module holds only the names the CLI offers, so that
importing it loads nothing heavy.
"""

FORMATS = ("html", "pdf")
EDITIONS = ("student", "instructor")  # the instructor edition adds an answer under every question
PAGE_SIZES = {"a4": "A4", "letter": "letter"}  # --paper value -> CSS @page size
PAPERS = tuple(PAGE_SIZES)
