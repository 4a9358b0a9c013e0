"""``--output json|text|table`` and ``--query``, printed exactly as the aws CLI v1 prints them.

awscli is a test dependency only, so its formatters are rebuilt here from its
``formatter.py`` and ``text.py``: JSON is ``json.dumps(indent=4,
ensure_ascii=False)`` with datetimes in ISO form and bytes in base64; text is
tab-separated with upper-cased section names; paginated responses are merged
for json and table and printed page by page for text.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
from typing import Any, TextIO

from botocore.paginate import PageIterator
from botocore.utils import set_value_from_jmespath

from layerport.cli.ecr_table import format_table

OUTPUT_CHOICES = ("json", "text", "table")


def json_default(value: object) -> str:
    """Encode what JSON cannot: datetimes as ISO 8601, bytes as base64 (awscli's json_encoder)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("utf-8")
    raise TypeError("Encountered unrecognized type in JSON encoder.")


def print_response(
    operation_name: str,
    response: Any,
    stream: TextIO,
    *,
    output: str,
    query: Any | None,
    color: str,
) -> None:
    """Print one response, a dict or a botocore ``PageIterator``, in the chosen format.

    query: a compiled JMESPath expression or None.
    """
    if output not in OUTPUT_CHOICES:
        raise ValueError(f"Unknown output type: {output}")
    if output == "text":
        _print_text(response, stream, query)
        return
    data = response.build_full_result() if isinstance(response, PageIterator) else response
    data.pop("ResponseMetadata", None)
    if query is not None:
        data = query.search(data)
    # A reader that went away (``| head``) ends the output quietly, as with the aws CLI.
    with contextlib.suppress(OSError):
        if output == "json":
            # An empty body prints nothing, but other falsy values (null, []) print.
            if data != {}:
                json.dump(data, stream, indent=4, default=json_default, ensure_ascii=False)
                stream.write("\n")
        else:
            format_table(operation_name, data, stream, color)
        stream.flush()


def _print_text(response: Any, stream: TextIO, query: Any | None) -> None:
    if not isinstance(response, PageIterator):
        response.pop("ResponseMetadata", None)
        format_text(query.search(response) if query is not None else response, stream)
        return
    # Page by page, so that a long listing starts printing before it ends.
    for index, page in enumerate(response):
        current: dict[str, Any] = {} if index > 0 else response.non_aggregate_part
        for result_key in response.result_keys:
            set_value_from_jmespath(current, result_key.expression, result_key.search(page))
        format_text(query.search(current) if query is not None else current, stream)
    if response.resume_token:
        token = {"NextToken": {"NextToken": response.resume_token}}
        format_text(query.search(token) if query is not None else token, stream)
    stream.flush()


def format_text(item: Any, stream: TextIO) -> None:
    """Write ``item`` as the aws CLI's tab-separated text."""
    _format_text(item, stream, None, None)


def _format_text(
    item: Any, stream: TextIO, identifier: str | None, scalar_keys: list[str] | None
) -> None:
    if isinstance(item, dict):
        _format_dict(scalar_keys, item, identifier, stream)
    elif isinstance(item, list):
        _format_list(item, identifier, stream)
    else:
        stream.write(f"{item}\n")


def _format_list(item: list[Any], identifier: str | None, stream: TextIO) -> None:
    if not item:
        return
    if any(isinstance(el, dict) for el in item):
        all_keys = sorted(
            {k for el in item for k, v in el.items() if not isinstance(v, dict | list)}
        )
        for element in item:
            _format_text(element, stream, identifier, all_keys)
    elif any(isinstance(el, list) for el in item):
        scalars = [el for el in item if not isinstance(el, list | dict)]
        if scalars:
            _format_scalar_list(scalars, identifier, stream)
        for non_scalar in (el for el in item if isinstance(el, list | dict)):
            _format_text(non_scalar, stream, identifier, None)
    else:
        _format_scalar_list(item, identifier, stream)


def _format_scalar_list(elements: list[Any], identifier: str | None, stream: TextIO) -> None:
    if identifier is not None:
        for item in elements:
            stream.write(f"{identifier.upper()}\t{item}\n")
    else:
        stream.write("\t".join(str(item) for item in elements) + "\n")


def _format_dict(
    scalar_keys: list[str] | None, item: dict[str, Any], identifier: str | None, stream: TextIO
) -> None:
    scalars: list[str] = []
    non_scalars: list[tuple[str, Any]] = []
    if scalar_keys is None:
        for key, value in sorted(item.items()):
            if isinstance(value, dict | list):
                non_scalars.append((key, value))
            else:
                scalars.append(str(value))
    else:
        scalars = [str(item.get(key, "")) for key in scalar_keys]
        non_scalars = [(key, item[key]) for key in sorted(set(item) - set(scalar_keys))]
    if scalars:
        if identifier is not None:
            scalars.insert(0, identifier.upper())
        stream.write("\t".join(scalars) + "\n")
    for new_identifier, non_scalar in non_scalars:
        _format_text(non_scalar, stream, new_identifier, None)
