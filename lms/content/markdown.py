"""Lesson Markdown -> safe HTML, done once at import time.

markdown-it-py renders (CommonMark + tables + strikethrough, raw HTML allowed for authors) and nh3 then removes
anything executable: script/style/iframe, on* attributes, javascript:/data: URLs. Relative images and links are
checked against the course directory (file:line errors) and rewritten to the course asset route or lesson pages.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import nh3
from markdown_it import MarkdownIt

ASSET_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf", ".csv", ".txt", ".json"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
ALLOWED_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "em", "strong", "b", "i", "code",
                "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "img", "hr", "br", "del", "s",
                "sub", "sup", "dl", "dt", "dd", "details", "summary", "figure", "figcaption", "kbd", "abbr", "span",
                "div", "caption", "mark", "small"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
                      "th": {"scope", "colspan", "rowspan"}, "td": {"colspan", "rowspan"}, "abbr": {"title"},
                      "code": {"class"}, "ol": {"start"}, "*": {"lang"}}


def asset_url(course_slug: str, relative: str) -> str:
    return f"/courses/{course_slug}/assets/{quote(relative)}"


def lesson_url(course_slug: str, lesson_slug: str) -> str:
    return f"/courses/{course_slug}/lessons/{lesson_slug}"


@dataclass
class RenderContext:
    course_dir: Path
    course_slug: str
    lesson_slugs: set[str]
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    assets: set[str] = field(default_factory=set)


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True, "typographer": False}).enable(["table", "strikethrough"])


def render(text: str, ctx: RenderContext, first_line: int = 1) -> str:
    md = _parser()
    tokens = md.parse(text)
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        line = first_line + (token.map[0] if token.map else 0)
        for child in token.children:
            if child.type == "image":
                child.attrSet("src", _image(str(child.attrGet("src") or ""), ctx, line))
            elif child.type == "link_open":
                child.attrSet("href", _link(str(child.attrGet("href") or ""), ctx, line))
    html = md.renderer.render(tokens, md.options, {})
    return sanitise(html, ctx.course_slug)


def sanitise(html: str, course_slug: str) -> str:
    asset_prefix = f"/courses/{course_slug}/assets/"

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            return value if value.startswith(asset_prefix) else None  # CSP allows only our own images
        if tag == "code" and attribute == "class":
            return value if value.startswith("language-") and value[9:].replace("-", "").isalnum() else None
        return value

    return nh3.clean(html, tags=ALLOWED_TAGS, clean_content_tags={"script", "style", "iframe", "object", "embed",
                                                                   "template", "noscript", "svg", "math"},
                     attributes=ALLOWED_ATTRIBUTES, attribute_filter=keep, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer")


def _resolve_asset(target: str, ctx: RenderContext, line: int) -> str | None:
    """Relative path from lessons/ (or course root) -> path under assets/, or None with an error recorded."""
    path = target.split("#", 1)[0].split("?", 1)[0]
    if path.startswith("/") or "\\" in path:
        ctx.errors.append((line, f"'{target}': use a path relative to the lesson, such as ../assets/diagram.svg"))
        return None
    normal = posixpath.normpath(posixpath.join("lessons", path))
    if not normal.startswith("assets/"):
        normal = posixpath.normpath(path)  # tolerate 'assets/x.png' written from the course root
    if not normal.startswith("assets/") or normal.startswith("assets/..") or ".." in normal.split("/"):
        ctx.errors.append((line, f"'{target}' is outside the course's assets/ directory"))
        return None
    assets_root = (ctx.course_dir / "assets").resolve()
    real = (ctx.course_dir / normal).resolve()
    if not real.is_relative_to(assets_root):
        ctx.errors.append((line, f"'{target}' resolves outside the course's assets/ directory"))
        return None
    if not real.is_file():
        ctx.errors.append((line, f"asset '{normal}' not found"))
        return None
    if real.suffix.lower() not in ASSET_EXTENSIONS:
        ctx.errors.append((line, f"asset '{normal}' has a file type we do not serve "
                                 f"(allowed: {', '.join(sorted(ASSET_EXTENSIONS))})"))
        return None
    relative = normal[len("assets/"):]
    ctx.assets.add(relative)
    return relative


def _image(src: str, ctx: RenderContext, line: int) -> str:
    if urlsplit(src).scheme or src.startswith("//"):
        ctx.errors.append((line, f"image '{src}' must be a course asset (no remote images: the site allows only "
                                 "its own images)"))
        return ""
    relative = _resolve_asset(src, ctx, line)
    if relative is None:
        return ""
    if Path(relative).suffix.lower() not in IMAGE_EXTENSIONS:
        ctx.errors.append((line, f"image '{src}' is not an image file"))
    return asset_url(ctx.course_slug, relative)


def _link(href: str, ctx: RenderContext, line: int) -> str:
    parts = urlsplit(href)
    if parts.scheme:
        if parts.scheme.lower() not in ("http", "https", "mailto"):
            ctx.errors.append((line, f"link '{href}' uses a forbidden scheme '{parts.scheme}:'"))
            return ""
        return href
    if not href or href.startswith("#") or href.startswith("//"):
        return href if not href.startswith("//") else ""
    name = parts.path
    if name.endswith(".md") and "/" not in name.removeprefix("./"):
        slug = name.removeprefix("./")[:-3].split(".")[0]
        if slug not in ctx.lesson_slugs:
            ctx.errors.append((line, f"link to lesson '{name}' which is not part of this course"))
            return ""
        return lesson_url(ctx.course_slug, slug) + (f"#{parts.fragment}" if parts.fragment else "")
    relative = _resolve_asset(href, ctx, line)
    return asset_url(ctx.course_slug, relative) if relative else ""
