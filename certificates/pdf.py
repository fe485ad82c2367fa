"""PDF certificates (English, Traditional and Simplified Chinese) with a QR code to the public verify page.

Chinese uses reportlab's built-in CID fonts (MSung-Light / STSong-Light): nothing is downloaded.
"""
from __future__ import annotations

import io
from typing import Any

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
# The certificate text per language: a PDF is rendered for one language regardless of the viewer's locale.
LABELS = {
    "en": {"title": "Certificate of Completion", "certifies": "This certifies that", "completed":
           "has successfully completed", "issued": "Issued", "valid_until": "Valid until", "id": "Credential ID",
           "verify": "Verify at", "issuer": "Issuer", "revoked": "REVOKED", "suspended": "SUSPENDED",
           "scan": "Scan to verify"},
    "zh_Hant": {"title": "結業證書", "certifies": "茲證明", "completed": "已成功完成", "issued": "發出日期",
                "valid_until": "有效期至", "id": "證書編號", "verify": "核實網址", "issuer": "發證機構",
                "revoked": "已撤銷", "suspended": "已暫停", "scan": "掃描核實"},
    "zh_Hans": {"title": "结业证书", "certifies": "兹证明", "completed": "已成功完成", "issued": "发出日期",
                "valid_until": "有效期至", "id": "证书编号", "verify": "核实网址", "issuer": "发证机构",
                "revoked": "已撤销", "suspended": "已暂停", "scan": "扫描核实"},
}
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
    labels, (regular, bold) = LABELS[language], _FONTS[language]
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
    lines = [f"{labels['issuer']}: {issuer.get('name', '')}", f"{labels['issued']}: {document['validFrom'][:10]}"]
    if "validUntil" in document:
        lines.append(f"{labels['valid_until']}: {document['validUntil'][:10]}")
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
