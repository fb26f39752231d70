"""PDFs for test fixtures: the generated shares' hand-written PDF writer (real PDF syntax:
xref, fonts, text operators), so pypdf must genuinely parse what the tests build."""

from app.evaluation.generated.formats import pdf_text as make_pdf

__all__ = ["make_pdf"]
