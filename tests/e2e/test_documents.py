"""The journey's QR reader must itself be right: symbols made by segno (an encoder independent of reportlab's)
decode to their text, and a PDF without a QR code, or a damaged symbol, is not taken for a valid one."""
from __future__ import annotations

import io

import pytest
import segno
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.pdfgen import canvas

from tests.e2e.documents import qr_decode, qr_modules, text_lines

URL = "https://academy.example.org/verify?id=453ee670-673d-4872-abf0-fb3573b73b8e"


# Every error-correction level, in byte, alphanumeric and numeric mode, up to the version (6) the reader supports.
CASES = [(text, error) for text in (URL, "HELLO WORLD 42", "0123456789012", "nia/v1/u12") for error in "lmqh"
         if segno.make_qr(text, error=error, boost_error=False).version <= 6]


@pytest.mark.parametrize(("text", "error"), CASES)
def test_segno_symbols_decode_to_their_text(text, error):
    symbol = segno.make_qr(text, error=error, boost_error=False)
    assert qr_decode([[bool(v) for v in row] for row in symbol.matrix]) == text


def _pdf(draw) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    draw(page)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _with_qr(page) -> None:
    page.drawString(60, 96, "Verify at: (here)")
    widget = QrCodeWidget(URL)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(120, 120, transform=[120 / (x1 - x0), 0, 0, 120 / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, page, 400, 60)


def test_a_reportlab_pdf_gives_back_its_text_and_qr_url():
    pdf = _pdf(_with_qr)
    assert "Verify at: (here)" in text_lines(pdf)  # escaped parentheses are unescaped
    assert qr_decode(qr_modules(pdf)) == URL


def test_no_qr_code_or_a_damaged_one_is_not_read_as_the_url():
    with pytest.raises(AssertionError, match="draws no QR code"):
        qr_modules(_pdf(lambda page: page.drawString(60, 96, "no code here")))
    modules = qr_modules(_pdf(_with_qr))
    modules[20][20] = not modules[20][20]  # one data module flipped: the text changes or cannot be read
    try:
        decoded = qr_decode(modules)
    except (AssertionError, UnicodeDecodeError, IndexError, ValueError):
        decoded = None
    assert decoded != URL
