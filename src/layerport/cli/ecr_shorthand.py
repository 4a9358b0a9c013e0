"""The aws CLI's shorthand syntax for flat structures: ``imageDigest=sha256:…,imageTag=v1``.

This follows the grammar of awscli's ``shorthand.py`` (quoting, ``\\,`` escapes,
``a=b,c`` meaning a list, error messages with a caret under the failing
character) so that a value typed for ``aws ecr`` means the same here.  Only
flat ``key=value`` pairs are accepted: every ECR structure layerport exposes is
flat, and nested ``[...]``/``{...}`` values are asked for as JSON instead of
being half-supported.  ``key@=file://…`` is not supported either.
"""

from __future__ import annotations

import re
import string
from typing import Any

# Character classes copied from awscli's ShorthandParser so that the same
# unquoted values are accepted: a first value may contain "=", a further csv
# value may not (that is how "a=b,c=d" splits into two keys).
_START_WORD = r"\!\#-&\(-\+\--\<\>-Z\\\\-z\u007c-\uffff"
_FIRST_FOLLOW_CHARS = r"\s\!\#-&\(-\+\--\\\\\^-\|~-\uffff"
_SECOND_FOLLOW_CHARS = r"\s\!\#-&\(-\+\--\<\>-\uffff"
_ESCAPED_COMMA = "(\\\\,)"
_FIRST_VALUE = re.compile(
    f"({_ESCAPED_COMMA}|[{_START_WORD}])({_ESCAPED_COMMA}|[{_FIRST_FOLLOW_CHARS}])*"
)
_SECOND_VALUE = re.compile(
    f"({_ESCAPED_COMMA}|[{_START_WORD}])({_ESCAPED_COMMA}|[{_SECOND_FOLLOW_CHARS}])*"
)
_SINGLE_QUOTED = re.compile(r"'(?:\\'|[^'])*'")
_DOUBLE_QUOTED = re.compile(r'"(?:\\"|[^"])*"')
_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "-_.#/:")
_REGEX_NAMES = {
    _FIRST_VALUE: "first",
    _SECOND_VALUE: "second",
    _SINGLE_QUOTED: "singled quoted",  # sic: the aws CLI's spelling
    _DOUBLE_QUOTED: "double quoted",
}


class ShorthandParseError(Exception):
    """The value is not valid shorthand; the message points at the failing character."""


def _error_location(value: str, index: int) -> str:
    consumed, remaining, num_spaces = value, "", index
    if "\n" in value[:index]:
        num_spaces = index - value[:index].rindex("\n") - 1
    if "\n" in value[index:]:
        next_newline = index + value[index:].index("\n")
        consumed, remaining = value[:next_newline], value[next_newline:]
    return f"{consumed}\n{' ' * num_spaces}^{remaining}"


class _SyntaxError(ShorthandParseError):
    def __init__(self, value: str, expected: str, actual: str, index: int) -> None:
        super().__init__(
            f"Expected: '{expected}', received: '{actual}' for input:\n"
            f"{_error_location(value, index)}"
        )


class _Parser:
    """One parse of one value; the methods mirror the grammar's productions."""

    def __init__(self, value: str) -> None:
        self._value = value
        self._index = 0

    def parameter(self) -> dict[str, Any]:
        # parameter = keyval *("," keyval)
        params: dict[str, Any] = {}
        key, val = self._keyval()
        params[key] = val
        last_index = self._index
        while self._index < len(self._value):
            self._expect(",", consume_whitespace=True)
            key, val = self._keyval()
            if key in params:
                raise ShorthandParseError(
                    f'Second instance of key "{key}" encountered for input:\n'
                    f"{_error_location(self._value, last_index + 1)}\n"
                    'This is often because there is a preceding "," instead of a space.'
                )
            params[key] = val
            last_index = self._index
        return params

    def _keyval(self) -> tuple[str, str | list[str]]:
        start = self._index
        while not self._at_eof() and self._value[self._index] in _KEY_CHARS:
            self._index += 1
        key = self._value[start : self._index]
        self._expect("=", consume_whitespace=True)
        return key, self._values()

    def _values(self) -> str | list[str]:
        if self._at_eof():
            return ""
        if self._value[self._index] in "[{":
            raise ShorthandParseError(
                "nested shorthand values are not supported; give this parameter as JSON"
            )
        first = self._first_value()
        self._consume_whitespace()
        if self._at_eof() or self._value[self._index] != ",":
            return first
        self._expect(",", consume_whitespace=True)
        values = [first]
        while True:
            try:
                current = self._second_value()
                self._consume_whitespace()
                if self._at_eof():
                    values.append(current)
                    break
                self._expect(",", consume_whitespace=True)
                values.append(current)
            except _SyntaxError:
                # "a=b,c=d": "c" was a key, not a second value; back up to its comma.
                if self._at_eof():
                    raise
                while self._index >= 0 and self._value[self._index] != ",":
                    self._index -= 1
                break
        return first if len(values) == 1 else values

    def _first_value(self) -> str:
        quoted = self._quoted()
        if quoted is not None:
            return quoted
        match = _FIRST_VALUE.match(self._value, self._index)
        if match is None:
            return ""
        self._index = match.end()
        return match.group().replace("\\,", ",").rstrip()

    def _second_value(self) -> str:
        quoted = self._quoted()
        if quoted is not None:
            return quoted
        return self._must_consume(_SECOND_VALUE).replace("\\,", ",").rstrip()

    def _quoted(self) -> str | None:
        if self._at_eof() or self._value[self._index] not in "'\"":
            return None
        quote = self._value[self._index]
        regex = _SINGLE_QUOTED if quote == "'" else _DOUBLE_QUOTED
        inner = self._must_consume(regex)[1:-1]
        return inner.replace(f"\\{quote}", quote).replace("\\\\", "\\")

    def _must_consume(self, regex: re.Pattern[str]) -> str:
        match = regex.match(self._value, self._index)
        if match is None:
            raise _SyntaxError(self._value, f"<{_REGEX_NAMES[regex]}>", "<none>", self._index)
        self._index = match.end()
        return match.group()

    def _expect(self, char: str, *, consume_whitespace: bool = False) -> None:
        if consume_whitespace:
            self._consume_whitespace()
        if self._at_eof():
            raise _SyntaxError(self._value, char, "EOF", self._index)
        actual = self._value[self._index]
        if actual != char:
            raise _SyntaxError(self._value, char, actual, self._index)
        self._index += 1
        if consume_whitespace:
            self._consume_whitespace()

    def _consume_whitespace(self) -> None:
        while not self._at_eof() and self._value[self._index] in string.whitespace:
            self._index += 1

    def _at_eof(self) -> bool:
        return self._index >= len(self._value)


def parse_shorthand(value: str) -> dict[str, Any]:
    """Parse one ``key=value,…`` string into a dict of strings and lists of strings."""
    return _Parser(value).parameter()


def coerce_to_shape(parsed: dict[str, Any], shape: Any) -> dict[str, Any]:
    """Convert shorthand strings to the member types of ``shape``, as awscli's visitor does.

    Integers and floats are converted, booleans only from ``true``/``false``,
    and a single value for a list member becomes a one-element list.  Unknown
    keys are left alone so that botocore's validator reports them with its
    usual message.
    """
    if shape.type_name != "structure":
        return parsed
    for name, member in shape.members.items():
        value = parsed.get(name)
        if value is None:
            continue
        type_name = member.type_name
        if type_name == "list" and not isinstance(value, list):
            parsed[name] = [value]
        elif isinstance(value, list):
            continue
        elif type_name in ("integer", "long"):
            parsed[name] = int(value)
        elif type_name in ("float", "double"):
            parsed[name] = float(value)
        elif type_name == "boolean" and value.lower() in ("true", "false"):
            parsed[name] = value.lower() == "true"
    return parsed
