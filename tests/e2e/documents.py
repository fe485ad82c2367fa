"""Reading the downloaded certificate the way an employer's phone and eyes do: the QR code and the printed text.

The PDF is parsed with the standard library only (its content stream is ASCII85 + Flate, as reportlab writes it).
The QR symbol is rebuilt from the filled rectangles of its dark modules and decoded here, independently of the
encoder that drew it, so the test follows the URL a phone scanning the code would open.
"""
from __future__ import annotations

import base64
import re
import zlib


_STREAM = re.compile(rb"<<(?P<head>(?:(?!<<).)*?)>>\s*stream\r?\n(?P<data>.*?)\r?\n?endstream", re.S)
_TEXT = re.compile(rb"\((?P<text>(?:\\.|[^\\)])*)\)\s*Tj")
_RECT = re.compile(rb"n ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re f\*")
_QUIET_ZONE = 4  # modules of white border around every QR symbol


def content_streams(pdf: bytes) -> list[bytes]:
    streams = []
    for match in _STREAM.finditer(pdf):
        head, data = match.group("head"), match.group("data")
        if b"ASCII85Decode" in head:
            data = base64.a85decode(data.strip(), adobe=True)
        if b"FlateDecode" in head:
            data = zlib.decompress(data)
        streams.append(data)
    return streams


def text_lines(pdf: bytes) -> list[str]:
    """Every string the page draws with Tj, unescaped (Latin-1, as the standard fonts encode it)."""
    lines = []
    for stream in content_streams(pdf):
        for match in _TEXT.finditer(stream):
            raw = re.sub(rb"\\([()\\])", rb"\1", match.group("text"))
            lines.append(raw.decode("latin-1"))
    return lines


def qr_modules(pdf: bytes) -> list[list[bool]]:
    """The QR symbol as rows of dark (True) modules, quiet zone excluded, top row first."""
    rects = [tuple(float(v) for v in m.groups()) for s in content_streams(pdf) for m in _RECT.finditer(s)]
    if not rects:
        raise AssertionError("the PDF draws no QR code")
    module = min(min(w, h) for _x, _y, w, h in rects)
    cells = {(round(y / module), round(x / module) + i)
             for x, y, w, h in rects for i in range(round(w / module))}
    low_x, low_y = min(c for _r, c in cells), min(r for r, _c in cells)
    size = max(c for _r, c in cells) - low_x + 1
    if size != max(r for r, _c in cells) - low_y + 1 or (size - 17) % 4:
        raise AssertionError(f"the QR code drawn is not square or not a QR size ({size} modules)")
    return [[(low_y + size - 1 - row, low_x + col) in cells for col in range(size)] for row in range(size)]


# (blocks, data codewords per block) for versions 1-6, levels L M Q H (ISO/IEC 18004 table 9); a certificate URL
# needs version 4 or 5. Longer blocks (one more data codeword) follow the shorter ones.
_BLOCKS = {
    1: {"L": [(1, 19)], "M": [(1, 16)], "Q": [(1, 13)], "H": [(1, 9)]},
    2: {"L": [(1, 34)], "M": [(1, 28)], "Q": [(1, 22)], "H": [(1, 16)]},
    3: {"L": [(1, 55)], "M": [(1, 44)], "Q": [(2, 17)], "H": [(2, 13)]},
    4: {"L": [(1, 80)], "M": [(2, 32)], "Q": [(2, 24)], "H": [(4, 9)]},
    5: {"L": [(1, 108)], "M": [(2, 43)], "Q": [(2, 15), (2, 16)], "H": [(2, 11), (2, 12)]},
    6: {"L": [(2, 68)], "M": [(4, 27)], "Q": [(4, 19)], "H": [(4, 15)]},
}
_LEVELS = {0b01: "L", 0b00: "M", 0b11: "Q", 0b10: "H"}
_MASKS = [lambda r, c: (r + c) % 2 == 0, lambda r, c: r % 2 == 0, lambda r, c: c % 3 == 0,
          lambda r, c: (r + c) % 3 == 0, lambda r, c: (r // 2 + c // 3) % 2 == 0,
          lambda r, c: (r * c) % 2 + (r * c) % 3 == 0, lambda r, c: ((r * c) % 2 + (r * c) % 3) % 2 == 0,
          lambda r, c: ((r + c) % 2 + (r * c) % 3) % 2 == 0]
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _function_modules(size: int, version: int) -> set[tuple[int, int]]:
    """Finder patterns with separators and format areas, timing patterns, alignment pattern, dark module."""
    taken = {(r, c) for r in range(9) for c in range(9)}
    taken |= {(r, c) for r in range(9) for c in range(size - 8, size)}
    taken |= {(r, c) for r in range(size - 8, size) for c in range(9)}
    taken |= {(6, i) for i in range(size)} | {(i, 6) for i in range(size)}
    if version >= 2:
        centre = size - 7
        taken |= {(r, c) for r in range(centre - 2, centre + 3) for c in range(centre - 2, centre + 3)}
    return taken


def qr_decode(modules: list[list[bool]]) -> str:
    """Decode an undamaged QR symbol of version 1-6 (numeric, alphanumeric and byte segments).

    Error correction is not needed for a symbol read straight from the PDF's vector drawing, so its
    codewords are not checked; a wrong module makes the text wrong, and the test compares the text."""
    size = len(modules)
    version = (size - 17) // 4
    if version not in _BLOCKS:
        raise AssertionError(f"QR version {version} is beyond this test decoder (1-6)")
    bits = [modules[8][c] for c in (0, 1, 2, 3, 4, 5, 7, 8)] + [modules[r][8] for r in (7, 5, 4, 3, 2, 1, 0)]
    fmt = int("".join("1" if b else "0" for b in bits), 2) ^ 0b101010000010010
    level, mask = _LEVELS[fmt >> 13], _MASKS[(fmt >> 10) & 0b111]
    taken = _function_modules(size, version)
    stream: list[int] = []
    upward, col = True, size - 1
    while col > 0:
        if col == 6:  # the vertical timing pattern is skipped as a whole column
            col -= 1
        for row in (range(size - 1, -1, -1) if upward else range(size)):
            for c in (col, col - 1):
                if (row, c) not in taken:
                    stream.append(int(modules[row][c] ^ mask(row, c)))
        upward, col = not upward, col - 2
    codewords = [int("".join(map(str, stream[i:i + 8])), 2) for i in range(0, len(stream) - 7, 8)]
    lengths = [n for count, n in _BLOCKS[version][level] for _ in range(count)]
    blocks: list[list[int]] = [[] for _ in lengths]
    position = 0
    for index in range(max(lengths)):
        for block, length in zip(blocks, lengths):
            if index < length:
                block.append(codewords[position])
                position += 1
    data = "".join(f"{byte:08b}" for block in blocks for byte in block)
    return _segments(data)


def _segments(data: str) -> str:
    text, at = [], 0

    def take(n: int) -> int:
        nonlocal at
        at += n
        return int(data[at - n:at], 2)

    while at + 4 <= len(data):
        mode = take(4)
        if mode == 0b0000:
            break
        if mode == 0b0100:
            text.append(bytes(take(8) for _ in range(take(8))).decode("utf-8"))
        elif mode == 0b0010:
            count = take(9)
            for _ in range(count // 2):
                pair = take(11)
                text.append(_ALNUM[pair // 45] + _ALNUM[pair % 45])
            if count % 2:
                text.append(_ALNUM[take(6)])
        elif mode == 0b0001:
            count = take(10)
            for width, bits in ((3, 10),) * (count // 3) + (((count % 3), {1: 4, 2: 7}.get(count % 3, 0)),):
                if width:
                    text.append(str(take(bits)).zfill(width))
        else:
            raise AssertionError(f"QR segment mode {mode:04b} is not used by certificates")
    return "".join(text)
