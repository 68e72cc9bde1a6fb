"""The projections' JSON text (`view.json_encoding`): json's C encoder built once
writes exactly what the encoder it stands for writes, for the rows' JSON columns
(`json.dumps`) and for the audit log's hashed canonical JSON (`audit.canonical`)."""

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from projections.audit import _ENCODER
from projections.view import json_encoding

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_json_columns_are_written_as_json_dumps_writes_them(value: Any) -> None:
    assert json_encoding(json.JSONEncoder())(value) == json.dumps(value)


@given(JSON_VALUES)
def test_the_audit_logs_canonical_json_is_its_encoders(value: Any) -> None:
    assert json_encoding(_ENCODER)(value) == _ENCODER.encode(value)
