"""The API reference in Markdown, made from the OpenAPI document the API serves.

    python -m services.api.reference > docs/api.md

writes docs/api.md; tests/unit/test_api_reference.py fails when the committed file
no longer matches the code. Every path and method, with the roles that may call it,
its parameters, request body, answers and status codes, then every schema with its
fields.
"""

import sys
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from services.api.app import create_api
from services.config import DEFAULT_AUTH_FAILURES_PER_MINUTE

COMMAND = "python -m services.api.reference > docs/api.md"
METHODS = ("get", "post", "put", "patch", "delete")
Schema = dict[str, Any]


def reference(document: Schema) -> str:
    """The whole reference for an OpenAPI document, ending in one newline."""
    lines = [*_preamble(document), *_index(document), *_operations(document)]
    lines += _schemas(document["components"]["schemas"])
    return "\n".join(lines).rstrip("\n") + "\n"


def _preamble(document: Schema) -> list[str]:
    info = document["info"]
    return [
        f"# {info['title']}: API reference (v{info['version']})",
        "",
        info.get("summary", ""),
        "",
        "Generated from the OpenAPI document, do not edit it by hand: regenerate it with",
        f"`{COMMAND}`.",
        "The running service serves the same document at `/openapi.json`, and a form to",
        "try each route at `/docs`. Every route but the operations ones takes",
        "`Authorization: Bearer <token>`. Errors are `application/problem+json`",
        "([Problem](#problem)). Request bodies refuse fields they do not name (422), and",
        "every POST accepts an `Idempotency-Key` header. Ids are UUIDs; a `date-time` is",
        "ISO 8601 with its offset, a `date` `YYYY-MM-DD`, a `duration` ISO 8601 in weeks,",
        "days, hours, minutes and seconds (`P28D`, `PT10S`).",
        "",
        "Each route behind a token names the roles that may call it (`x-roles` in the",
        "document, from the access policy `services.access.POLICY`). Any other role gets",
        "403; a role named may still get 404 for a record outside its reach (another",
        "mentee's relationship, another scheme's for a coordinator).",
        "",
        "A token that is missing, unknown, expired or revoked gets 401. A client address",
        "that presents too many tokens that are not valid within a minute",
        f"(MENTORING_AUTH_FAILURES_PER_MINUTE, by default {DEFAULT_AUTH_FAILURES_PER_MINUTE}; "
        "counted by each API process)",
        "gets 429 with `Retry-After`, whatever token it presents, until the oldest of them",
        'is a minute old (README, "Tokens").',
        "",
    ]


def _each_operation(document: Schema) -> Iterator[tuple[str, str, Schema]]:
    for path, operations in document["paths"].items():
        for method in METHODS:
            if method in operations:
                yield method.upper(), path, operations[method]


def _anchor(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as -."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return "#" + kept.replace(" ", "-")


def _index(document: Schema) -> list[str]:
    lines = ["## Routes", "", "| method | path | what it does |", "|---|---|---|"]
    for method, path, operation in _each_operation(document):
        heading = f"{method} {path}"
        lines.append(f"| {method} | [`{path}`]({_anchor(heading)}) | {_gist(operation)} |")
    return [*lines, ""]


def _gist(operation: Schema) -> str:
    """The first sentence of the route's docstring, else the name FastAPI gave it."""
    description = _one_line(operation.get("description", ""))
    return description.split(". ", 1)[0].removesuffix(".") or operation["summary"]


def _operations(document: Schema) -> list[str]:
    lines: list[str] = []
    for method, path, operation in _each_operation(document):
        lines += [f"### {method} {path}", ""]
        lines += [_one_line(operation.get("description") or operation["summary"]), ""]
        lines += _roles(operation.get("x-roles"))
        lines += _parameters(operation.get("parameters", []))
        lines += _request_body(operation.get("requestBody"))
        lines += _responses(operation["responses"])
    return lines


def _roles(roles: list[str] | None) -> list[str]:
    if roles is None:
        return []
    return ["Roles: " + ", ".join(f"`{role}`" for role in roles) + ".", ""]


def _parameters(parameters: list[Schema]) -> list[str]:
    if not parameters:
        return []
    lines = ["| parameter | in | type | required | notes |", "|---|---|---|---|---|"]
    for parameter in parameters:
        schema = _not_null(parameter["schema"])
        required = "yes" if parameter.get("required") else "no"
        lines.append(
            f"| `{parameter['name']}` | {parameter['in']} | {_type(schema)} | {required} "
            f"| {_notes(schema, parameter.get('description'))} |"
        )
    return [*lines, ""]


def _not_null(schema: Schema) -> Schema:
    """A parameter's schema without the `null` FastAPI adds for one left out: a query
    string cannot say null."""
    options: list[Schema] = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) != 1:
        return schema
    return {key: value for key, value in schema.items() if key != "anyOf"} | options[0]


def _request_body(body: Schema | None) -> list[str]:
    if body is None:
        return []
    content = body["content"]
    kinds = ", ".join(f"{_type(c['schema'])} as `{media}`" for media, c in content.items())
    optional = "" if body.get("required") else " (optional)"
    return [f"Request body{optional}: {kinds}.", ""]


def _responses(responses: Schema) -> list[str]:
    lines = ["| status | meaning | body |", "|---|---|---|"]
    for status, response in sorted(responses.items()):
        bodies = [
            f"{_type(c['schema'])} as `{media}`" if "schema" in c else f"`{media}`"
            for media, c in response.get("content", {}).items()
        ]
        headers = [
            f"header `{name}`: {header['description']}"
            for name, header in response.get("headers", {}).items()
        ]
        answer = "; ".join(bodies + headers) or "empty"
        lines.append(f"| {status} | {_meaning(status, response['description'])} | {answer} |")
    return [*lines, ""]


def _meaning(status: str, description: str) -> str:
    """The status's reason phrase, and what the route says it means if anything more."""
    phrase = HTTPStatus(int(status)).phrase
    if description in (phrase, "Successful Response"):
        return phrase
    return f"{phrase}: {description}"


def _schemas(schemas: Schema) -> list[str]:
    lines = ["## Schemas", ""]
    for name in sorted(schemas):
        schema = schemas[name]
        lines += [f"### {name}", ""]
        if schema.get("description"):
            lines += [_one_line(schema["description"]), ""]
        if "enum" in schema:
            lines += ["One of " + ", ".join(f"`{value}`" for value in schema["enum"]) + ".", ""]
        else:
            lines += _fields(schema)
    return lines


def _fields(schema: Schema) -> list[str]:
    required = set(schema.get("required", ()))
    lines = ["| field | type | required | notes |", "|---|---|---|---|"]
    for name, field in schema.get("properties", {}).items():
        needed = "yes" if name in required else "no"
        notes = _notes(field, field.get("description"))
        lines.append(f"| `{name}` | {_type(field)} | {needed} | {notes} |")
    return [*lines, ""]


def _type(schema: Schema) -> str:
    """A schema's type in words, with links to the named schemas it uses."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}]({_anchor(name)})"
    if "anyOf" in schema:
        return " or ".join(_type(option) for option in schema["anyOf"])
    if "const" in schema:
        return f"`{schema['const']}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of string to {_type(schema['additionalProperties'])}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _notes(schema: Schema, description: str | None) -> str:
    """What a field's schema says besides its type: its description, limits, default."""
    notes = [_one_line(description)] if description else []
    for option in [schema, *schema.get("anyOf", [])]:
        notes += _limits(option)
    if "default" in schema and schema["default"] not in (None, [], {}):
        notes.append(f"default `{_plain(schema['default'])}`")
    return "; ".join(notes).replace("|", "\\|")


LIMITS = {
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "minimum": "at least {}",
    "maximum": "at most {}",
    "exclusiveMinimum": "above {}",
    "exclusiveMaximum": "below {}",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
    "maxProperties": "at most {} entries",
    "pattern": "matches `{}`",
}


def _limits(schema: Schema) -> list[str]:
    return [text.format(_plain(schema[key])) for key, text in LIMITS.items() if key in schema]


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main() -> None:
    sys.stdout.write(reference(create_api().openapi()))


if __name__ == "__main__":
    main()
