"""PDF certificates (English, Traditional and Simplified Chinese) with a QR code to the public verify page.

Chinese uses reportlab's built-in CID fonts (MSung-Light / STSong-Light): nothing is downloaded.
"""
from __future__ import annotations

import io
from datetime import date
from typing import Any

from babel.dates import format_date
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

LANGUAGES = ("en", "zh_Hant", "zh_Hans")
_FONTS = {"en": ("Helvetica", "Helvetica-Bold"), "zh_Hant": ("MSung-Light", "MSung-Light"),
          "zh_Hans": ("STSong-Light", "STSong-Light")}


def N_(text: str) -> str:
    """Marks a msgid for extraction; it is translated per PDF language by `certificate_text`."""
    return text


# The certificate text, from the UI catalogue (same words as the web pages): a PDF is rendered for one language
# regardless of the viewer's locale.
_LABELS = {"title": N_("Certificate of Completion"), "certifies": N_("This certifies that"),
           "completed": N_("has successfully completed"), "issued": N_("Issued"), "valid_until": N_("Valid until"),
           "id": N_("Credential ID"), "verify": N_("Verify at"), "issuer": N_("Issuer"), "revoked": N_("REVOKED"),
           "suspended": N_("SUSPENDED"), "scan": N_("Scan to verify")}


def certificate_text(language: str) -> dict[str, str]:
    from lms.core.i18n import catalogue

    translations = catalogue(language)
    return {key: translations.ugettext(msgid) for key, msgid in _LABELS.items()}


def _date(value: str, language: str) -> str:
    """An ISO timestamp of the credential as a long date in the PDF's language ("5 January 2025", "2025年1月5日")."""
    return format_date(date.fromisoformat(value[:10]), "long", locale=language)


_registered = False


def _register_fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont("MSung-Light"))
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        _registered = True


def render(document: dict[str, Any], verify_url: str, language: str = "en", state: str = "active") -> bytes:
    """A one-page landscape certificate for the signed `document`."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    _register_fonts()
    labels, (regular, bold) = certificate_text(language), _FONTS[language]
    width, height = landscape(A4)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(width, height), invariant=1)
    issuer = document.get("issuer", {})
    pdf.setTitle(f"{labels['title']} — {document.get('name', '')}")
    pdf.setAuthor(str(issuer.get("name", "")))
    pdf.setLineWidth(3)
    pdf.setStrokeColorRGB(0.05, 0.28, 0.45)
    pdf.rect(24, 24, width - 48, height - 48)
    pdf.setFont(bold, 34)
    pdf.drawCentredString(width / 2, height - 110, labels["title"])
    pdf.setFont(regular, 15)
    pdf.drawCentredString(width / 2, height - 160, labels["certifies"])
    pdf.setFont(bold, 28)
    pdf.drawCentredString(width / 2, height - 200, str(document["credentialSubject"].get("name", "")))
    pdf.setFont(regular, 15)
    pdf.drawCentredString(width / 2, height - 240, labels["completed"])
    pdf.setFont(bold, 22)
    pdf.drawCentredString(width / 2, height - 275, str(document["credentialSubject"]["achievement"]["name"])[:70])
    pdf.setFont(regular, 11)
    lines = [f"{labels['issuer']}: {issuer.get('name', '')}",
             f"{labels['issued']}: {_date(document['validFrom'], language)}"]
    if "validUntil" in document:
        lines.append(f"{labels['valid_until']}: {_date(document['validUntil'], language)}")
    lines += [f"{labels['id']}: {document['id']}", f"{labels['verify']}: {verify_url}"]
    y = 150
    for line in lines:
        pdf.drawString(60, y, line)
        y -= 18
    qr = QrCodeWidget(verify_url)
    x0, y0, x1, y1 = qr.getBounds()
    size = 120
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, pdf, width - 60 - size, 60)
    pdf.setFont(regular, 9)
    pdf.drawCentredString(width - 60 - size / 2, 48, labels["scan"])
    if state in ("revoked", "suspended"):
        pdf.saveState()
        pdf.setFillColorRGB(0.8, 0.1, 0.1)
        pdf.setFont(bold, 60)
        pdf.translate(width / 2, height / 2)
        pdf.rotate(20)
        pdf.drawCentredString(0, 0, labels[state])
        pdf.restoreState()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
