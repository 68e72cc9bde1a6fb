"""The JSON depth bound: brackets are counted outside strings only, in one linear
pass that parses nothing."""

import pytest

from services.api.middleware import nested_deeper_than


@pytest.mark.parametrize(
    ("body", "deepest"),
    [
        (b"", 0),
        (b'{"a": 1}', 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{"}', 1),
        (b'{"a": "\\"[[[[", "b": ["\\\\"]}', 2),  # an escaped quote, then an escaped backslash
        (b"[" * 10_000, 10_000),
        (b"not json ]]] [", 1),
        (b"]" * 100 + b"[" * 40, 40),
    ],
)
def test_depth_is_counted_outside_strings(body: bytes, deepest: int) -> None:
    assert nested_deeper_than(body, deepest - 1) or deepest == 0
    assert not nested_deeper_than(body, deepest)


def test_a_string_of_escaped_quotes_is_one_string() -> None:
    body = b'["' + b'\\"[' * 50_000 + b'"]'
    assert not nested_deeper_than(body, 1)
