"""YAML loading that remembers where every value came from.

Analysts edit `monitor.yaml` and portfolio files by hand; an error must point
at the file, the line and the field, in one line. PyYAML's node tree carries
the marks, so we compose once (with libyaml when it is installed), construct the
plain data from that tree, and keep the tree to look up the line of any pydantic
error location. A portfolio of 100,000 customers is millions of nodes and
objects, none of them in a cycle: the garbage collector is paused while they are
made (it would scan them again and again for nothing).
"""

from __future__ import annotations

import functools
import gc
import os
import re
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.text import one_line


class ConfigError(Exception):
    """A bad configuration or portfolio file: the message is one line, ready to print."""


@dataclass
class YamlDoc:
    """A file's data and, for error messages only, its node tree with the line of every
    value: composed again when an error asks (a big portfolio's tree, marks and all, is
    most of its memory, so it is not kept)."""

    path: Path
    data: Any
    text: str = ""

    @functools.cached_property
    def root(self) -> yaml.Node | None:
        with collector_paused():
            return yaml.compose(self.text, Loader=_Loader) if self.text else None

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """1-based line of the deepest key or item found along `loc`."""
        node, line = self.root, None
        if node is not None:
            line = node.start_mark.line + 1
        for part in loc:
            found = _child(node, part) if node is not None else None
            if found is None:
                break
            anchor, node = found
            line = anchor.start_mark.line + 1
        return line

    def error(self, loc: Sequence[str | int], message: str) -> ConfigError:
        line = self.line_of(loc)
        where = f"{self.path}:{line}" if line else str(self.path)
        field = format_loc(loc)
        return ConfigError(f"{where}: {field + ': ' if field else ''}{message}")

    def validation_error(
        self, exc: ValidationError, prefix: Sequence[str | int] = ()
    ) -> ConfigError:
        first = exc.errors()[0]
        loc = [*prefix, *first["loc"]]
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        return self.error(loc, one_line(first["msg"]) + suffix)


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(where the entry starts, its value): a mapping entry starts at its key."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return key, value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        return (node.value[part], node.value[part]) if 0 <= part < len(node.value) else None
    return None


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's parser when installed) without implicit timestamps:
    `since: 2025-13-01` stays a string, so pydantic reports it with its line instead of
    PyYAML raising mid-parse."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def format_loc(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


MAX_DEPTH = 100  # levels of nesting a configuration or portfolio file may have


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while many acyclic objects are made."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_yaml(path: Path) -> YamlDoc:
    """Parse a YAML file once; syntax errors, duplicate keys and nesting deeper than
    MAX_DEPTH become a ConfigError with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {one_line(exc)}") from None
    try:
        with collector_paused():
            root = yaml.compose(text, Loader=_Loader)
            data = _Data(path).of(root, 1) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: invalid YAML: {one_line(exc.problem or exc)}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {one_line(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deeply") from None
    return YamlDoc(path=path, data=data, text=text)


_STR, _MAP, _SEQ = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq"))


class _Data:
    """The plain data of a composed tree, as PyYAML's safe constructor makes it (which
    it calls for anything but strings, plain mappings and lists), rejecting a duplicate
    key (PyYAML keeps the last of two silently; a hand-edited file deserves an error)
    and nesting deeper than MAX_DEPTH. An alias is the same object again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.constructor = _Loader("")
        self.made: dict[int, Any] = {}

    def of(self, node: yaml.Node, depth: int) -> Any:
        made = self.made.get(id(node), self)
        if made is not self:
            return made
        if depth > MAX_DEPTH:
            line = node.start_mark.line + 1
            raise ConfigError(
                f"{self.path}:{line}: invalid YAML: nested deeper than {MAX_DEPTH} levels"
            )
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
            value: Any = node.value
        elif isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
            value = [self.of(item, depth + 1) for item in node.value]
        elif (
            isinstance(node, yaml.MappingNode)
            and node.tag == _MAP
            and all(k.tag != "tag:yaml.org,2002:merge" for k, _ in node.value)
        ):
            value = {}
            for key, item in node.value:
                name = self.of(key, depth + 1)
                if not isinstance(name, Hashable):
                    line = key.start_mark.line + 1
                    raise ConfigError(f"{self.path}:{line}: invalid YAML: a key that is a list")
                if name in value and isinstance(key, yaml.ScalarNode):
                    line = key.start_mark.line + 1
                    raise ConfigError(f"{self.path}:{line}: duplicate key {key.value!r}")
                value[name] = self.of(item, depth + 1)
        else:  # a number, a boolean, null, a merge key: PyYAML's own reading
            value = self.constructor.construct_object(node, deep=True)
        self.made[id(node)] = value
        return value


# a default runs to the next "}" but never over another "${" (else every "${X:-" of a
# value without "}" would scan to its end: quadratic)
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-((?:[^}$]|\$(?!\{))*))?\}")


def expand_env(doc: YamlDoc, value: Any, loc: tuple[str | int, ...] = ()) -> Any:
    """Replace `${NAME}` / `${NAME:-default}` in every string, so secrets stay out of files."""
    if isinstance(value, dict):
        return {k: expand_env(doc, v, (*loc, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(doc, v, (*loc, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise doc.error(loc, f"environment variable {name} is not set")

    return _ENV.sub(sub, value)
