"""Baked badges (Open Badges 3.0 "baking"): the signed credential embedded in a PNG iTXt chunk or an SVG element."""
from __future__ import annotations

import io
import json
import re
from html import escape
from typing import Any

from PIL import Image, ImageDraw, PngImagePlugin

PNG_KEYWORD = "openbadgecredential"
_SVG_RE = re.compile(rb"<openbadges:credential[^>]*>\s*<!\[CDATA\[(.*?)\]\]>\s*</openbadges:credential>", re.S)


def bake_png(document: dict[str, Any]) -> bytes:
    image = Image.new("RGB", (256, 256), (13, 71, 115))
    draw = ImageDraw.Draw(image)
    draw.ellipse((16, 16, 240, 240), outline=(255, 255, 255), width=6)
    draw.text((128, 118), "NI Academy", fill=(255, 255, 255), anchor="mm")
    draw.text((128, 142), "Open Badge 3.0", fill=(255, 255, 255), anchor="mm")
    info = PngImagePlugin.PngInfo()
    info.add_itxt(PNG_KEYWORD, json.dumps(document, ensure_ascii=False), zip=False)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def bake_svg(document: dict[str, Any]) -> bytes:
    payload = json.dumps(document, ensure_ascii=False).replace("]]>", "]]]]><![CDATA[>")
    name = escape(str(document.get("name", "")))[:40]
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0" '
           'width="256" height="256" viewBox="0 0 256 256">'
           f'<openbadges:credential><![CDATA[{payload}]]></openbadges:credential>'
           '<circle cx="128" cy="128" r="118" fill="#0d4773"/>'
           '<text x="128" y="122" fill="#fff" font-family="sans-serif" font-size="18" text-anchor="middle">'
           'NI Academy</text>'
           f'<text x="128" y="148" fill="#fff" font-family="sans-serif" font-size="11" text-anchor="middle">'
           f'{name}</text></svg>')
    return svg.encode("utf-8")


def extract(data: bytes) -> bytes:
    """The credential JSON from a baked PNG/SVG, or the bytes unchanged when they are not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                text = image.text.get(PNG_KEYWORD) if hasattr(image, "text") else None
        except Exception as error:  # Pillow raises many types for damaged files
            raise ValueError(f"damaged PNG: {type(error).__name__}") from None
        if not text:
            raise ValueError("this PNG has no baked credential")
        return text.encode("utf-8")
    head = data[:2048].lstrip()
    if head.startswith(b"<?xml") or head.startswith(b"<svg"):
        match = _SVG_RE.search(data)
        if not match:
            raise ValueError("this SVG has no baked credential")
        return match.group(1)
    return data
