"""Read and check a course directory tree; nothing here touches the database.

`load_courses(path, ...)` returns (specs, errors). The importer writes only when errors is empty.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from .checks import SLUG_RE, FileChecker, find_cycle
from .markdown import ASSET_EXTENSIONS, RenderContext, render
from .quizfile import read_quiz
from .specs import CourseSpec, LessonSpec, ModuleSpec
from .yamlload import ContentError, YList, YMap, load, split_front_matter

LEVELS = ("beginner", "intermediate", "advanced")
MAX_TEXT_BYTES = 2 * 1024 * 1024
MAX_ASSET_BYTES = 10 * 1024 * 1024
COURSE_REQUIRED = {"title", "summary", "level", "hours", "achievement", "modules"}
COURSE_OPTIONAL = {"prerequisites", "recertify_months", "completion", "translations"}
MODULE_REQUIRED = {"slug", "title", "lessons"}
MODULE_OPTIONAL = {"summary", "prerequisites", "quizzes", "labs", "translations"}


def discover(path: Path, errors: list[ContentError]) -> list[Path]:
    """A course directory (has course.yaml) or a directory of course directories."""
    if not path.exists():
        errors.append(ContentError(str(path), None, "no such file or directory"))
        return []
    if path.is_file():
        if path.name == "course.yaml":
            return [path.parent]
        errors.append(ContentError(str(path), None, "give a course directory or a directory of courses"))
        return []
    if (path / "course.yaml").is_file():
        return [path]
    found = []
    for child in sorted(path.iterdir()):
        if not child.is_dir() or child.name.startswith((".", "_")):
            continue
        if (child / "course.yaml").is_file():
            found.append(child)
        else:
            errors.append(ContentError(str(child / "course.yaml"), None,
                                       "missing course.yaml (every directory here must be a course; "
                                       "prefix a directory with '_' to skip it)"))
    if not found and not errors:
        errors.append(ContentError(str(path), None, "no courses found (no */course.yaml)"))
    return found


def load_courses(path: Path, locales: list[str], known: dict[str, list[str]] | None = None
                 ) -> tuple[list[CourseSpec], list[ContentError]]:
    """`known`: courses already in the database (slug -> prerequisite slugs) that prerequisites may name."""
    errors: list[ContentError] = []
    specs = [spec for spec in (_course(d, locales, errors) for d in discover(Path(path), errors)) if spec]
    _check_course_prerequisites(specs, dict(known or {}), errors)
    return (specs if not errors else []), errors


def _read_text(file: Path, errors: list[ContentError], digest) -> str | None:
    try:
        raw = file.read_bytes()
    except OSError as error:
        errors.append(ContentError(str(file), None, f"cannot read: {error.strerror}"))
        return None
    if len(raw) > MAX_TEXT_BYTES:
        errors.append(ContentError(str(file), None, f"file too large ({len(raw)} bytes, limit {MAX_TEXT_BYTES})"))
        return None
    digest.update(str(file.name).encode() + b"\0" + raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        errors.append(ContentError(str(file), raw[:error.start].count(b"\n") + 1, "file is not UTF-8 text"))
        return None


def _course(directory: Path, locales: list[str], errors: list[ContentError]) -> CourseSpec | None:
    slug = directory.name
    path = str(directory / "course.yaml")
    digest = hashlib.sha256()
    check = FileChecker(path, errors)
    if not SLUG_RE.match(slug):
        check.error(1, f"course directory name '{slug}' is not a valid slug (lower-case letters, digits, '-')")
    text = _read_text(directory / "course.yaml", errors, digest)
    if text is None:
        return None
    try:
        data = load(text, path)
    except ContentError as error:
        errors.append(error)
        return None
    data = check.mapping(data, "course.yaml", 1)
    if data is None:
        return None
    other_locales = [loc for loc in locales if loc != "en"]
    check.keys(data, "course.yaml", COURSE_REQUIRED, COURSE_OPTIONAL)
    title = check.text(data, "title", max_len=200)
    summary = check.text(data, "summary", max_len=2000)
    level = data.get("level")
    if "level" in data and level not in LEVELS:
        check.error(check.line_of(data, "level"), f"level {level!r} is not one of {', '.join(LEVELS)}")
    hours = check.number(data, "hours", default=0.0, minimum=0.1, maximum=1000)
    recertify = check.number(data, "recertify_months", integer=True, minimum=1, maximum=240, nullable=True)
    prerequisites = check.slug_list(data, "prerequisites", "course")
    for prereq, line in prerequisites:
        if prereq == slug:
            check.error(line, f"course '{slug}' cannot be its own prerequisite")
    translations = check.translations(data, other_locales, {"title": 200, "summary": 2000})
    achievement = _achievement(data, check, other_locales)
    lesson_slugs = _all_lesson_slugs(data)
    ctx = RenderContext(course_dir=directory, course_slug=slug, lesson_slugs=lesson_slugs)
    modules = _modules(data, check, directory, other_locales, ctx, digest)
    completion = _completion(data, check, modules)
    _check_assets(directory, errors)
    return CourseSpec(slug=slug, directory=directory, title=title, summary=summary, level=level,
                      hours=float(hours or 0),
                      prerequisites=[p for p, _ in prerequisites], prerequisite_lines=dict(prerequisites),
                      recertify_months=recertify, achievement=achievement, completion=completion, modules=modules,
                      assets=ctx.assets, content_hash=digest.hexdigest(), translations=translations)


def _achievement(data: YMap, check: FileChecker, locales: list[str]) -> dict:
    block = data.get("achievement")
    if block is None:
        return {}
    block = check.mapping(block, "'achievement'", check.line_of(data, "achievement"))
    if block is None:
        return {}
    check.keys(block, "achievement", {"name", "description", "criteria"}, {"alignments", "translations"})
    result = {"name": check.text(block, "name", max_len=200),
              "description": check.text(block, "description", max_len=2000),
              "criteria": check.text(block, "criteria", max_len=4000), "alignments": [],
              "translations": check.translations(block, locales, {"name": 200, "description": 2000,
                                                                  "criteria": 4000})}
    alignments = block.get("alignments")
    if alignments is None:
        return result
    if not isinstance(alignments, YList):
        check.error(check.line_of(block, "alignments"), "'alignments' must be a list")
        return result
    for index, item in enumerate(alignments):
        entry = check.mapping(item, f"alignment {index + 1}", alignments.lines[index])
        if entry is None:
            continue
        check.keys(entry, f"alignment {index + 1}", {"name", "url"}, {"framework", "code", "description"})
        aligned = {key: check.text(entry, key, max_len=500) for key in ("name", "url", "framework", "code",
                                                                       "description") if key in entry}
        url = aligned.get("url", "")
        if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            check.error(check.line_of(entry, "url"), f"alignment url {url!r} must be an http(s) URL")
        result["alignments"].append(aligned)
    return result


def _all_lesson_slugs(data: YMap) -> set[str]:
    modules = data.get("modules")
    slugs: set[str] = set()
    for module in modules if isinstance(modules, list) else []:
        if isinstance(module, dict) and isinstance(module.get("lessons"), list):
            slugs.update(s for s in module["lessons"] if isinstance(s, str))
    return slugs


def _modules(data: YMap, check: FileChecker, directory: Path, locales: list[str], ctx: RenderContext,
             digest) -> list[ModuleSpec]:
    items = data.get("modules")
    if items is None:
        return []
    if not isinstance(items, YList) or not items:
        check.error(check.line_of(data, "modules"), "'modules' must be a non-empty list")
        return []
    modules: list[ModuleSpec] = []
    module_lines: dict[str, int] = {}
    used: dict[str, dict[str, int]] = {"lesson": {}, "quiz": {}, "lab": {}}
    prereq_refs: list[tuple[str, str, int]] = []
    for index, item in enumerate(items):
        module = check.mapping(item, f"module {index + 1}", items.lines[index])
        if module is None:
            continue
        check.keys(module, f"module {index + 1}", MODULE_REQUIRED, MODULE_OPTIONAL)
        slug = module.get("slug")
        if "slug" in module and (not isinstance(slug, str) or not SLUG_RE.match(slug)):
            check.error(check.line_of(module, "slug"), f"module slug {slug!r} is not a valid slug")
            slug = None
        if slug in module_lines:
            check.error(check.line_of(module, "slug"), f"duplicate module slug '{slug}' "
                                                       f"(first on line {module_lines[slug]})")
            continue
        if slug:
            module_lines[slug] = check.line_of(module, "slug")
        for prereq, line in check.slug_list(module, "prerequisites", "module"):
            prereq_refs.append((slug or "", prereq, line))
        lessons, quizzes, labs = [], [], []
        for kind, key in (("lesson", "lessons"), ("quiz", "quizzes"), ("lab", "labs")):
            for ref, line in check.slug_list(module, key, kind):
                if ref in used[kind]:
                    check.error(line, f"duplicate {kind} slug '{ref}': already used on line {used[kind][ref]}")
                    continue
                used[kind][ref] = line
                if kind == "lesson":
                    lessons.append(_lesson(directory, ref, line, check, locales, ctx, digest))
                elif kind == "quiz":
                    quizzes.append(_quiz(directory, ref, line, check, locales, digest))
                elif not (directory / "labs" / ref).is_dir():
                    check.error(line, f"lab directory labs/{ref}/ not found")
                else:
                    labs.append(ref)
        if "lessons" in module and not module.get("lessons"):
            check.error(check.line_of(module, "lessons"), "a module needs at least one lesson")
        modules.append(ModuleSpec(
            slug=slug or "", title=check.text(module, "title", max_len=200),
            summary=check.text(module, "summary", required=False, max_len=2000),
            prerequisites=[p for s, p, _ in prereq_refs if s == slug], lessons=[x for x in lessons if x],
            quizzes=[x for x in quizzes if x], labs=labs,
            translations=check.translations(module, locales, {"title": 200, "summary": 2000})))
    for owner, prereq, line in prereq_refs:
        if prereq not in module_lines:
            check.error(line, f"unknown prerequisite module '{prereq}'")
        elif prereq == owner:
            check.error(line, f"module '{owner}' cannot be its own prerequisite")
    cycle = find_cycle({m.slug: [p for p in m.prerequisites if p != m.slug] for m in modules})
    if cycle:
        check.error(module_lines.get(cycle[0]), "module prerequisite cycle: " + " -> ".join(cycle))
    return modules


def _lesson(directory: Path, slug: str, line: int, check: FileChecker, locales: list[str], ctx: RenderContext,
            digest) -> LessonSpec | None:
    file = directory / "lessons" / f"{slug}.md"
    if not file.is_file():
        check.error(line, f"lesson file lessons/{slug}.md not found")
        return None
    base = _lesson_file(file, check.errors, ctx, digest, require_minutes=False)
    if base is None:
        return None
    translations = {}
    for locale_file in sorted(file.parent.glob(f"{slug}.*.md")):
        locale = locale_file.name[len(slug) + 1:-3]
        if locale not in locales:
            check.errors.append(ContentError(str(locale_file), 1, f"unknown locale '{locale}' in the file name "
                                                                  f"(allowed: {', '.join(locales)})"))
            continue
        translated = _lesson_file(locale_file, check.errors, ctx, digest, require_minutes=False)
        if translated:
            translations[locale] = {"title": translated[0], "minutes": translated[1], "body_html": translated[3]}
    title, minutes, markdown_text, html = base
    return LessonSpec(slug=slug, title=title, minutes=minutes or 10, body_markdown=markdown_text, body_html=html,
                      translations=translations)


def _lesson_file(file: Path, errors: list[ContentError], ctx: RenderContext, digest, require_minutes: bool):
    path = str(file)
    text = _read_text(file, errors, digest)
    if text is None:
        return None
    try:
        meta, body, body_line = split_front_matter(text, path)
    except ContentError as error:
        errors.append(error)
        return None
    check = FileChecker(path, errors)
    meta = check.mapping(meta, "the front matter", 2)
    if meta is None:
        return None
    check.keys(meta, "the front matter", {"title"}, {"minutes"})
    title = check.text(meta, "title", max_len=200)
    minutes = check.number(meta, "minutes", default=None, integer=True, minimum=1, maximum=600)
    if not body.strip():
        check.error(body_line, "the lesson has no content after the front matter")
    ctx.errors = []
    html = render(body, ctx, first_line=body_line)
    for line, message in ctx.errors:
        check.error(line, message)
    return title, minutes, body, html


def _quiz(directory: Path, slug: str, line: int, check: FileChecker, locales: list[str], digest):
    file = directory / "quizzes" / f"{slug}.yaml"
    if not file.is_file():
        check.error(line, f"quiz file quizzes/{slug}.yaml not found")
        return None
    try:
        digest.update(file.read_bytes())
    except OSError:
        pass
    return read_quiz(file, slug, locales, check.errors)


def _completion(data: YMap, check: FileChecker, modules: list[ModuleSpec]) -> dict:
    result = {"lessons": "all", "quizzes": "all", "labs": "all"}
    block = data.get("completion")
    if block is None:
        return result
    block = check.mapping(block, "'completion'", check.line_of(data, "completion"))
    if block is None:
        return result
    check.keys(block, "completion", set(), {"lessons", "quizzes", "labs"})
    if "lessons" in block:
        if block["lessons"] not in ("all", "none"):
            check.error(check.line_of(block, "lessons"), "completion.lessons must be 'all' or 'none'")
        result["lessons"] = block["lessons"]
    available = {"quizzes": {q.slug for m in modules for q in m.quizzes},
                 "labs": {lab for m in modules for lab in m.labs}}
    for key in ("quizzes", "labs"):
        if key not in block:
            continue
        value = block[key]
        if value in ("all", "none"):
            result[key] = value
            continue
        if not isinstance(value, YList):
            check.error(check.line_of(block, key), f"completion.{key} must be 'all', 'none' or a list of slugs")
            continue
        chosen = check.slug_list(block, key, key[:-1] if key == "labs" else "quiz")
        for ref, line in chosen:
            if ref not in available[key]:
                check.error(line, f"completion.{key} names '{ref}', which no module lists")
        result[key] = [ref for ref, _ in chosen]
    return result


def _check_assets(directory: Path, errors: list[ContentError]) -> None:
    root = directory / "assets"
    if not root.is_dir():
        return
    resolved_root = root.resolve()
    for file in sorted(root.rglob("*")):
        if file.is_symlink() and not file.resolve().is_relative_to(resolved_root):
            errors.append(ContentError(str(file), None, "symbolic link points outside the assets/ directory"))
        elif file.is_file() and file.suffix.lower() in ASSET_EXTENSIONS and file.stat().st_size > MAX_ASSET_BYTES:
            errors.append(ContentError(str(file), None, f"asset too large (limit {MAX_ASSET_BYTES} bytes)"))


def _check_course_prerequisites(specs: list[CourseSpec], known: dict[str, list[str]],
                                errors: list[ContentError]) -> None:
    graph = dict(known)
    graph.update({spec.slug: spec.prerequisites for spec in specs})
    for spec in specs:
        for prereq in spec.prerequisites:
            if prereq not in graph:
                errors.append(ContentError(spec.course_file, spec.prerequisite_lines[prereq],
                                           f"unknown prerequisite course '{prereq}' (not in this import and not "
                                           "already imported)"))
    cycle = find_cycle({k: [p for p in v if p != k] for k, v in graph.items()})
    if cycle:
        owner = next((s for s in specs if s.slug in cycle), None)
        if owner is not None:
            nxt = cycle[cycle.index(owner.slug) + 1]
            errors.append(ContentError(owner.course_file, owner.prerequisite_lines.get(nxt),
                                       "course prerequisite cycle: " + " -> ".join(cycle)))
