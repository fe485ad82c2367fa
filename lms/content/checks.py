"""Small typed-field checks over YMap/YList that collect errors instead of stopping at the first."""
from __future__ import annotations

import re
from typing import Any

from .yamlload import ContentError, YList, YMap

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_MISSING = object()


class FileChecker:
    """Checks the fields of one file; every problem is appended to the shared `errors` list."""

    def __init__(self, path: str, errors: list[ContentError]):
        self.path, self.errors = path, errors

    def error(self, line: int | None, message: str) -> None:
        self.errors.append(ContentError(self.path, line, message))

    @staticmethod
    def line_of(container: Any, key: Any = None) -> int:
        if key is not None and isinstance(container, YMap) and key in container.lines:
            return container.lines[key]
        if key is not None and isinstance(container, YList) and isinstance(key, int) and key < len(container.lines):
            return container.lines[key]
        return getattr(container, "line", 1)

    def mapping(self, value: Any, where: str, line: int) -> YMap | None:
        if not isinstance(value, YMap):
            self.error(line, f"{where} must be a mapping of keys to values, got {_kind(value)}")
            return None
        return value

    def keys(self, data: YMap, where: str, required: set[str], optional: set[str]) -> None:
        for key in data:
            if key not in required and key not in optional:
                allowed = ", ".join(sorted(required | optional))
                self.error(data.lines[key], f"unknown key '{key}' in {where} (allowed: {allowed})")
        for key in sorted(required - set(data)):
            self.error(data.line, f"missing key '{key}' in {where}")

    def text(self, data: YMap, key: str, *, required: bool = True, default: str = "", max_len: int = 10_000,
             where: str = "") -> str:
        value = data.get(key, _MISSING)
        if value is _MISSING:
            return default  # missing-required is reported by keys()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.error(self.line_of(data, key), f"'{key}'{where} must be text, got {_kind(value)}")
            return default
        value = value.strip()
        if required and not value:
            self.error(self.line_of(data, key), f"'{key}'{where} must not be empty")
        if len(value) > max_len:
            self.error(self.line_of(data, key), f"'{key}'{where} is too long ({len(value)} > {max_len} characters)")
        return value

    def number(self, data: YMap, key: str, *, default: Any = None, integer: bool = False, minimum: float | None = None,
               maximum: float | None = None, nullable: bool = False) -> Any:
        value = data.get(key, _MISSING)
        if value is _MISSING:
            return default
        if value is None and nullable:
            return None
        kind = "a whole number" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
            self.error(self.line_of(data, key), f"'{key}' must be {kind}{' or null' if nullable else ''}, "
                                                f"got {_kind(value)}")
            return default
        if value != value or value in (float("inf"), float("-inf")):
            self.error(self.line_of(data, key), f"'{key}' must be a finite number")
            return default
        if minimum is not None and value < minimum:
            self.error(self.line_of(data, key), f"'{key}' must be at least {minimum:g}, got {value}")
            return default
        if maximum is not None and value > maximum:
            self.error(self.line_of(data, key), f"'{key}' must be at most {maximum:g}, got {value}")
            return default
        return value

    def slug_list(self, data: YMap, key: str, what: str) -> list[tuple[str, int]]:
        """A list of slugs -> [(slug, line)], with wrong types and duplicates reported."""
        value = data.get(key, _MISSING)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, YList):
            self.error(self.line_of(data, key), f"'{key}' must be a list of {what} slugs, got {_kind(value)}")
            return []
        found: list[tuple[str, int]] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            line = value.lines[index]
            if not isinstance(item, str) or not SLUG_RE.match(item):
                self.error(line, f"'{key}' item {item!r} is not a valid {what} slug "
                                 "(lower-case letters, digits, '-' and '_')")
                continue
            if item in seen:
                self.error(line, f"duplicate {what} slug '{item}' in '{key}' (first on line {seen[item]})")
                continue
            seen[item] = line
            found.append((item, line))
        return found

    def translations(self, data: YMap, locales: list[str], fields: dict[str, int]) -> dict[str, dict[str, str]]:
        """`translations: {zh_Hant: {title: ..}}` -> checked dict; `fields` maps allowed field -> max length."""
        value = data.get("translations", _MISSING)
        if value is _MISSING or value is None:
            return {}
        block = self.mapping(value, "'translations'", self.line_of(data, "translations"))
        if block is None:
            return {}
        result: dict[str, dict[str, str]] = {}
        for locale, entry in block.items():
            if locale not in locales:
                self.error(block.lines[locale], f"unknown locale '{locale}' in translations "
                                                f"(allowed: {', '.join(locales)})")
                continue
            entry = self.mapping(entry, f"translations.{locale}", block.lines[locale])
            if entry is None:
                continue
            self.keys(entry, f"translations.{locale}", set(), set(fields))
            result[locale] = {f: self.text(entry, f, max_len=fields[f], where=f" in translations.{locale}")
                              for f in fields if f in entry}
        return result


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", YMap: "a mapping", list: "a list", YList: "a list", str: "text", bool: "true/false",
            int: "a whole number", float: "a number"}.get(type(value), type(value).__name__)


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """Return one cycle as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt in graph and state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if state.get(start) is None:
            cycle = visit(start)
            if cycle:
                return cycle
    return None
