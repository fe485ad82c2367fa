"""YAML with line numbers, so every content error can say `file:line: what is wrong`.

PyYAML's composer keeps marks on nodes; we build plain dicts/lists that remember the line of each key and item.
Duplicate keys (which PyYAML silently overwrites), unknown tags and alias bombs become errors instead.
"""
from __future__ import annotations

from typing import Any

import yaml

MAX_NODES = 50_000


class ContentError(Exception):
    """One problem in one content file; str() gives `path:line: message`."""

    def __init__(self, path: str, line: int | None, message: str):
        super().__init__(message)
        self.path, self.line, self.message = path, line, message

    def __str__(self) -> str:
        return f"{self.path}:{self.line or 1}: {self.message}"


class YMap(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int = 1
    lines: dict


class YList(list):
    """A sequence that knows its own line and the line of each item."""

    line: int = 1
    lines: list


def load(text: str, path: str, line_offset: int = 0) -> Any:
    """Parse one YAML document; raises ContentError with the offending line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = (mark.line + 1 + line_offset) if mark else None
        raise ContentError(path, line, f"invalid YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise ContentError(path, 1 + line_offset, f"invalid YAML: {error}") from None
    if node is None:
        return None
    return _Builder(path, line_offset).build(node)


class _Builder:
    def __init__(self, path: str, offset: int):
        self.path, self.offset, self.count = path, offset, 0
        self.constructor = yaml.SafeLoader("")

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def build(self, node: yaml.Node) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise ContentError(self.path, self.line(node), f"document too large or too nested (over {MAX_NODES} nodes)")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise ContentError(self.path, self.line(node), f"unsupported tag {node.tag}")
            result = YList(self.build(item) for item in node.value)
            result.line, result.lines = self.line(node), [self.line(item) for item in node.value]
            return result
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as error:
            raise ContentError(self.path, self.line(node), f"cannot read value: {getattr(error, 'problem', error)}") \
                from None

    def _mapping(self, node: yaml.MappingNode) -> YMap:
        if node.tag != "tag:yaml.org,2002:map":
            raise ContentError(self.path, self.line(node), f"unsupported tag {node.tag}")
        self.constructor.flatten_mapping(node)  # merge keys (<<)
        result, lines = YMap(), {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ContentError(self.path, self.line(key_node), "mapping keys must be plain text")
            key = self.build(key_node)
            if not isinstance(key, (str, int, float, bool)):
                raise ContentError(self.path, self.line(key_node), f"unsupported key {key!r}")
            key = str(key)
            if key in result:
                raise ContentError(self.path, self.line(key_node),
                                   f"duplicate key '{key}' (first on line {lines[key]})")
            lines[key] = self.line(key_node)
            result[key] = self.build(value_node)
        result.line, result.lines = self.line(node), lines
        return result


def split_front_matter(text: str, path: str) -> tuple[Any, str, int]:
    """Markdown with `---` YAML front matter -> (front matter, body, line where the body starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ContentError(path, 1, "missing YAML front matter (the file must start with a '---' line)")
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            meta = load("".join(lines[1:index]), path, line_offset=1)
            return meta, "".join(lines[index + 1:]), index + 2
    raise ContentError(path, 1, "front matter is not closed by a '---' line")
