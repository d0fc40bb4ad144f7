"""Schemathesis against the running server's own ``/openapi.json``: no 5xx, and every
response (status, content type, body) as the schema declares it.

Bounded and deterministic: a fixed number of derandomized examples per operation and
mode (valid data, then invalid data), on loopback only, against a server that takes short
inputs so that each synthesis is quick. Hypothesis drives schemathesis's strategies
directly (its pytest plugin does not run under pytest 9).
It found undeclared statuses (``/metrics/recent?limit=AAA`` was a 400 declared as 422,
``/v1/models/{id}``'s 404 was not declared) and keeps them found.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from supertonic_server import Settings

from .conftest import LiveServer

#: Examples per operation: enough to reach every declared status, a minute or so in all.
EXAMPLES = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed(base_settings: Settings) -> Iterator[LiveServer]:
    """The default app, with short inputs (each synthesis quick) and a key-free API."""
    server = LiveServer(
        base_settings.model_copy(update={"max_input_chars": 64, "warmup": False})
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def direct() -> Iterator[requests.Session]:
    """A session that ignores proxy variables: the fuzzer talks to loopback only."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_is_declared_and_none_is_a_server_error(
    fuzzed: LiveServer, direct: requests.Session, mode: GenerationMode
) -> None:
    with httpx.Client(trust_env=False, timeout=30) as client:
        document = client.get(f"{fuzzed.base_url}/openapi.json").raise_for_status().json()
    operations = [
        result.ok() for result in schemathesis.openapi.from_dict(document).get_all_operations()
    ]
    fuzzed_ops = []
    for operation in operations:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=fuzzed.base_url, session=direct, checks=CHECKS, timeout=60
            )

        try:
            check()
        except Unsatisfiable:
            # No invalid input exists (no parameters, or any string is valid): only
            # negative mode meets this, and it must still reach the operations below.
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        fuzzed_ops.append(operation.label)
    assert {"POST /v1/audio/speech", "GET /metrics/recent"} <= set(fuzzed_ops)
