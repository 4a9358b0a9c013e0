"""``--output table``: the aws CLI v1's boxed tables, rebuilt without importing awscli.

The layout rules (section per nested structure, keys sorted, a one-row section
turned vertical when the table is wider than the terminal, 80 columns when
stdout is not a terminal, column widths scaled to the widest section) follow
awscli's ``table.py`` and ``TableFormatter``, because scripts and eyes compare
our output with ``aws ecr … --output table`` byte for byte.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any, Protocol, TextIO

# colorama's codes, written out so that colour needs no extra package.
_BRIGHT_BLUE = "\x1b[1m\x1b[34m"
_DIM_YELLOW = "\x1b[2m\x1b[33m"
RESET_ALL = "\x1b[0m"


class Writer(Protocol):
    """The part of a text stream the table writes to."""

    def write(self, text: str, /) -> int: ...


def text_length(text: object) -> int:
    """Display width: East Asian wide, full-width and ambiguous characters count twice."""
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in str(text))


def terminal_width(stream: TextIO, default: int = 80) -> int:
    """Width of the terminal behind ``stream``, or ``default`` when it is not a terminal."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return default


def center_text(text: str, length: int, text_len: int, left: str = "|", right: str = "|") -> str:
    """``|   text   |`` exactly ``length`` display columns wide."""
    char_start = (length // 2) - (text_len // 2) - 1
    so_far = text_length(left) + char_start + text_len
    return left + " " * char_start + text + " " * (length - text_length(right) - so_far) + right


def align_left(text: str, length: int, text_len: int, left: str, right: str) -> str:
    """``|  text     |``: two spaces of padding unless the cell is too narrow for them."""
    padding = 2 if length - (text_len + 2 + text_length(left) + text_length(right)) >= 0 else 0
    so_far = len(left) + padding + text_len
    return left + " " * padding + text + " " * (length - so_far - len(right)) + right


class Styler:
    """No colour: what pipes and ``--color off`` get."""

    def row_element(self, text: str) -> str:
        return text

    def indentation(self, text: str) -> str:
        return text


class ColorStyler(Styler):
    """awscli's ColorizedStyler: bright blue cells, dim yellow borders of nested sections."""

    def row_element(self, text: str) -> str:
        return _BRIGHT_BLUE + text + RESET_ALL

    def indentation(self, text: str) -> str:
        return _DIM_YELLOW + text + RESET_ALL


class Section:
    """A titled block of one header row and data rows."""

    def __init__(self, title: str = "", indent_level: int = 0) -> None:
        self.title = title
        self.indent_level = indent_level
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self._num_cols: int | None = None
        self._max_widths: list[int] = []

    def column_widths(self, padding: int = 0, max_width: int | None = None) -> list[int]:
        """Column widths, scaled so that they add up to ``max_width`` when it is given."""
        unscaled = [w + padding for w in self._max_widths]
        if max_width is None or not unscaled:
            return unscaled
        scale = max_width / float(sum(unscaled))
        scaled = [round(scale * w) for w in unscaled]
        off_by = sum(scaled) - max_width
        while off_by != 0:
            order: Sequence[int] = range(len(scaled))
            if off_by < 0:
                order = list(reversed(order))
            for i in order:
                if off_by > 0:
                    scaled[i] -= 1
                    off_by -= 1
                else:
                    scaled[i] += 1
                    off_by += 1
                if off_by == 0:
                    break
        return scaled

    def total_width(self, padding: int = 0, outer_padding: int = 0) -> int:
        total = sum(w + padding for w in self.column_widths()) + 2 + 2 * outer_padding
        return max(text_length(self.title) + 2 + 2 * outer_padding, total)

    def add_header(self, headers: list[str]) -> None:
        self._update_max_widths(headers)
        if self._num_cols is None:
            self._num_cols = len(headers)
        self.headers = headers

    def add_row(self, row: list[Any]) -> None:
        if self._num_cols is None:
            self._num_cols = len(row)
        if len(row) != self._num_cols:
            raise ValueError(
                f"Row should have {self._num_cols} elements, instead it has {len(row)}"
            )
        cells = [str(r) for r in row]
        self.rows.append(cells)
        self._update_max_widths(cells)

    def _update_max_widths(self, row: list[str]) -> None:
        if not self._max_widths:
            self._max_widths = [text_length(el) for el in row]
        else:
            for i, el in enumerate(row):
                self._max_widths[i] = max(text_length(el), self._max_widths[i])


class _IndentedWriter:
    """Prefixes and suffixes every line with one border character per nesting level."""

    def __init__(self, stream: Writer, level: int, char: str) -> None:
        self._stream = stream
        self._level = level
        self._char = char

    def write(self, text: str) -> None:
        self._stream.write(self._char * self._level)
        if text.endswith("\n"):
            self._stream.write(text[:-1])
            self._stream.write(self._char * self._level)
            self._stream.write("\n")
        else:
            self._stream.write(text)


class MultiTable:
    """The sections of one response, rendered to the same width."""

    def __init__(self, width: int, styler: Styler) -> None:
        self._sections: list[Section] = []
        self._current = Section()
        self._width = width
        self._styler = styler

    def new_section(self, title: str, indent_level: int = 0) -> None:
        self._current = Section(title, indent_level)
        self._sections.append(self._current)

    def add_row_header(self, headers: list[str]) -> None:
        self._current.add_header(headers)

    def add_row(self, row: list[Any]) -> None:
        self._current.add_row(row)

    def render(self, stream: Writer) -> None:
        max_width = self._max_width()
        if max_width > self._width:
            self._convert_to_vertical()
            max_width = self._max_width()
        stream.write("-" * max_width + "\n")
        for section in self._sections:
            indented = _IndentedWriter(stream, section.indent_level, self._styler.indentation("|"))
            width = max_width - section.indent_level * 2
            self._render_title(section, width, indented)
            self._render_headers(section, width, indented)
            self._render_rows(section, width, indented)

    def _max_width(self) -> int:
        return max(s.total_width(padding=4, outer_padding=s.indent_level) for s in self._sections)

    def _convert_to_vertical(self) -> None:
        # A single-row section becomes one "header | value" row per column.
        for i, section in enumerate(self._sections):
            if len(section.rows) == 1 and section.headers:
                vertical = Section(section.title, section.indent_level)
                for header, element in zip(section.headers, section.rows[0], strict=False):
                    vertical.add_row([header, element])
                self._sections[i] = vertical

    def _render_title(self, section: Section, width: int, stream: _IndentedWriter) -> None:
        if section.title:
            stream.write(center_text(section.title, width, text_length(section.title)) + "\n")
            if not section.headers and not section.rows:
                stream.write("+{}+\n".format("-" * (width - 2)))

    def _render_headers(self, section: Section, width: int, stream: _IndentedWriter) -> None:
        if not section.headers:
            return
        widths = section.column_widths(padding=4, max_width=width)
        line = ""
        for i, (cell_width, header) in enumerate(zip(widths, section.headers, strict=False)):
            left = "|" if i == 0 else ""
            line += center_text(header, cell_width, text_length(header), left, "|")
        _write_line_break(stream, widths)
        stream.write(line + "\n")

    def _render_rows(self, section: Section, width: int, stream: _IndentedWriter) -> None:
        if not section.rows:
            return
        widths = section.column_widths(padding=4, max_width=width)
        if not widths:
            return
        _write_line_break(stream, widths)
        for row in section.rows:
            line = ""
            for i, (cell_width, element) in enumerate(zip(widths, row, strict=False)):
                left = "|" if i == 0 else ""
                styled = self._styler.row_element(element)
                line += align_left(styled, cell_width, text_length(element), left, "|")
            stream.write(line + "\n")
        _write_line_break(stream, widths)


def _write_line_break(stream: _IndentedWriter, widths: list[int]) -> None:
    parts = ["+{}+".format("-" * (widths[0] - 2))]
    parts += ["{}+".format("-" * (w - 1)) for w in widths[1:]]
    stream.write("".join(parts) + "\n")


def _is_scalar(value: object) -> bool:
    return not isinstance(value, list | dict)


def _group_scalar_keys(current: dict[str, Any]) -> tuple[list[str], list[str]]:
    headers = sorted(k for k, v in current.items() if _is_scalar(v))
    more = sorted(k for k, v in current.items() if not _is_scalar(v))
    return headers, more


class TableBuilder:
    """Walks a response into a :class:`MultiTable`, as awscli's TableFormatter does."""

    def __init__(self, table: MultiTable) -> None:
        self.table = table

    def build(self, title: str | None, current: Any, indent_level: int = 0) -> bool:
        """Add ``current`` under ``title``; False when there is nothing to show."""
        if not current:
            return False
        if title is not None:
            self.table.new_section(title, indent_level=indent_level)
        if isinstance(current, list):
            if isinstance(current[0], dict):
                self._from_list(current, indent_level, title)
            else:
                for item in current:
                    if _is_scalar(item):
                        self.table.add_row([item])
                    elif all(_is_scalar(el) for el in item):
                        self.table.add_row(item)
                    else:
                        self.build(None, item)
        if isinstance(current, dict):
            self._from_dict(current, indent_level)
        return True

    def _from_dict(self, current: dict[str, Any], indent_level: int) -> None:
        headers, more = _group_scalar_keys(current)
        if len(headers) == 1:
            self.table.add_row([headers[0], current[headers[0]]])
        elif headers:
            self.table.add_row_header(headers)
            self.table.add_row([current[k] for k in headers])
        for remaining in more:
            self.build(remaining, current[remaining], indent_level + 1)

    def _from_list(self, current: list[Any], indent_level: int, title: str | None) -> None:
        header_set: set[str] = set()
        more_set: set[str] = set()
        for item in current:
            item_headers, item_more = _group_scalar_keys(item)
            header_set.update(item_headers)
            more_set.update(item_more)
        headers, more = sorted(header_set), sorted(more_set)
        self.table.add_row_header(headers)
        for index, element in enumerate(current):
            if index > 0 and more:
                self.table.new_section(title or "", indent_level=indent_level)
                self.table.add_row_header(headers)
            self.table.add_row([element.get(header, "") for header in headers])
            for remaining in more:
                if remaining in element:
                    self.build(remaining, element[remaining], indent_level + 1)


class _ResettingWriter:
    """Appends a colour reset after every write, as colorama's autoreset stdout wrapper does."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text + RESET_ALL)


def format_table(title: str, response: Any, stream: TextIO, color: str) -> None:
    """Print ``response`` as a table titled with the operation name.

    color: ``on``, ``off`` or ``auto`` (colour only when stdout is a terminal).
    """
    colored = color == "on" or (color == "auto" and stream.isatty())
    table = MultiTable(terminal_width(sys.stdout), ColorStyler() if colored else Styler())
    if TableBuilder(table).build(title, response):
        table.render(_ResettingWriter(stream) if colored else stream)
