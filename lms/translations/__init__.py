"""The UI translation catalogues and the commands that keep them in step with the source.

`<locale>/LC_MESSAGES/messages.po` are written by people and committed; the `.mo` files are built from them
(`make translations`, run by `make venv`, `make run` and `make test`) and never committed.

    python -m lms.translations update    # re-extract messages.pot from the source, merge it into every .po
    python -m lms.translations compile   # .po -> .mo (what `make translations` does, for every locale)
    python -m lms.translations check     # exit 1 and list every msgid a catalogue lacks (also a test)

One catalogue (domain `messages`) covers every package: babel.cfg at the repository root lists the sources.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import CommandLineInterface, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MAPPING = ROOT / "babel.cfg"
TEMPLATE = HERE / "messages.pot"
LOCALES = ("zh_Hant", "zh_Hans")  # English is the source language: it has no catalogue
# `N_` marks a string for extraction without translating it where it is written (translated later, e.g. the PDF).
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "_l": None, "lazy_ngettext": (1, 2)}
_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa%])")


def po_path(locale: str, directory: Path = HERE) -> Path:
    return directory / locale / "LC_MESSAGES" / "messages.po"


def extract(output: Path) -> None:
    """Every marked string of the source tree into the template `output` (what translators work from), with
    locations relative to the repository root."""
    with MAPPING.open() as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(MAPPING))
    catalog = Catalog(project="NI Academy", copyright_holder="NI Academy", charset="utf-8", fuzzy=False)
    for filename, line, message, comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True,
            directory_filter=lambda path: not Path(path).name.startswith((".", "__pycache__", "node_modules"))):
        catalog.add(message, None, [(Path(filename).as_posix(), line)], auto_comments=comments, context=context)
    with output.open("wb") as handle:
        write_po(handle, catalog, width=120, sort_by_file=True, omit_header=False)


def update() -> None:
    """Re-extract, then merge new msgids into each catalogue (new ones empty, changed ones marked fuzzy)."""
    extract(TEMPLATE)
    for locale in LOCALES:
        command = "update" if po_path(locale).exists() else "init"
        CommandLineInterface().run(["pybabel", "-q", command, "-i", str(TEMPLATE), "-d", str(HERE), "-l", locale,
                                    "--width=120"])


def compile_catalogues(directory: Path = HERE) -> list[Path]:
    """Write `.mo` next to each `.po` under `directory` (fuzzy entries left out, as gettext does)."""
    written = []
    for locale in LOCALES:
        source = po_path(locale, directory)
        with source.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        target = source.with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, catalog)
        written.append(target)
    return written


def compile_stale(directory: Path = HERE) -> list[Path]:
    """Compile the catalogues whose `.mo` is missing or older than its `.po` (what `make translations` does), for
    callers that may run without make (pytest started by hand)."""
    def is_stale(source: Path) -> bool:
        target = source.with_suffix(".mo")
        return not target.exists() or target.stat().st_mtime < source.stat().st_mtime

    stale = [locale for locale in LOCALES if is_stale(po_path(locale, directory))]
    return compile_catalogues(directory) if stale else []


def _placeholders(text: str) -> list[tuple[str, str]]:
    return sorted((name or "", kind) for name, kind in _PLACEHOLDER.findall(text))


def problems(template: Path | None = None, directory: Path = HERE) -> dict[str, list[str]]:
    """{locale: [what is wrong]} for every msgid of `template` (default: a fresh extraction of the source) that a
    catalogue under `directory` lacks, leaves empty or fuzzy, or translates with other %(placeholders)s than the
    English."""
    if template is None:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "messages.pot"
            extract(fresh)
            return problems(fresh, directory)
    with template.open("rb") as handle:
        wanted = [m for m in read_po(handle) if m.id]
    found: dict[str, list[str]] = {}
    for locale in LOCALES:
        issues = found.setdefault(locale, [])
        if not po_path(locale, directory).exists():
            issues.append(f"no catalogue {po_path(locale, directory)}")
            continue
        with po_path(locale, directory).open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        for message in wanted:
            issues.extend(_message_problems(catalog, message))
    return found


def _message_problems(catalog, message) -> list[str]:
    key = message.id[0] if isinstance(message.id, tuple) else message.id
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
    translated = catalog.get(message.id, context=message.context)
    if translated is None:
        return [f"missing: {key!r} ({where})"]
    strings = translated.string if isinstance(translated.string, tuple) else (translated.string,)
    if translated.fuzzy:
        return [f"fuzzy: {key!r} ({where})"]
    if not all(s and s.strip() for s in strings):
        return [f"untranslated: {key!r} ({where})"]
    # every form of a translation keeps the placeholders of the English (the plural one: Chinese has one form)
    expected = _placeholders(message.id[-1] if isinstance(message.id, tuple) else message.id)
    for text in strings:
        if _placeholders(text) != expected:
            return [f"placeholders differ: {key!r} -> {text!r} ({where})"]
    return []


def _main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "update":
        update()
    elif command == "compile":
        for path in compile_catalogues():
            print(f"compiled {path.relative_to(ROOT)}")
    elif command == "check":
        issues = [f"{locale}: {issue}" for locale, found in problems().items() for issue in found]
        print("\n".join(issues) or "every msgid is translated in " + ", ".join(LOCALES))
        return 1 if issues else 0
    else:
        print(__doc__)
        return 2
    return 0
