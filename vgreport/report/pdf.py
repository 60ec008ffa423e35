"""PDF output through WeasyPrint: tagged (PDF/UA), the data attached, and every date, font time stamp
and identifier derived from the inputs, so the same report gives the same bytes."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from .context import ReportContext

# WeasyPrint's tagged variant: headings, lists, tables and figures (with their alt text) in the
# structure tree for screen readers. Checked on this report: same pages, same look as untagged.
PDF_VARIANT = "pdf/ua-1"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _write_pdf(page: str, context: ReportContext, target: str) -> None:
    import weasyprint

    date = (context.date or _EPOCH).astimezone(timezone.utc)
    # Attachment dates default to the file times or now(): pin them to the measurement date.
    attachments = [weasyprint.Attachment(filename=str(p), name=Path(p).name, created=date, modified=date,
                                         description=f"{Path(p).name}: the data of this report "
                                                     f"(vgreport, profile {context.profile})")
                   for p in context.attachments if Path(p).is_file()]
    # Without libharfbuzz-subset, WeasyPrint subsets fonts with fontTools, which stamps each font
    # with the current time unless SOURCE_DATE_EPOCH is set: pin it to the measurement date.
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(date.timestamp()))
    try:
        # No fetch is legitimate (the page is self-contained); any attempt stops the rendering.
        fetcher = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
        weasyprint.HTML(string=page, base_url=None, url_fetcher=fetcher).write_pdf(
            target, attachments=attachments, pdf_variant=PDF_VARIANT,
            pdf_identifier=True)  # an /ID that is the MD5 of the content: reproducible
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
