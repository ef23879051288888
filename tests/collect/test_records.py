"""Invocation records read as Bedrock writes them: streamed metrics chunks, 2026 field order, error names,
calling Regions and large requests (log-file collector).

Record shapes: REFERENCE.md §1; the InvokeModelWithResponseStream chunk array ends with a chunk that carries
`amazon-bedrock-invocationMetrics` {inputTokenCount, outputTokenCount, invocationLatency, firstByteLatency,
cache counts}, as public readers of Bedrock invocation logs reassemble it (a Go reader's test fixture
`reassembleOutput(outputBodyJson)`; found with find_string '"amazon-bedrock-invocationMetrics":{').
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from bedrock_usage.collect.logfiles import LARGE_INPUT_FLOOR, collect_logfiles
from bedrock_usage.errors import error_kind

from tests.engine.helpers import (
    ALICE,
    BOB,
    NOVA_LITE,
    SONNET45,
    invoke_stream_record,
    record,
    window,
    write_gz,
)

DAY = window("2026-11-27T00:00:00", "2026-11-28T00:00:00")
CLAUDE = f"us.{SONNET45}"


def test_given_invoke_model_streams_when_collected_then_latency_and_first_byte_come_from_the_metrics_chunk(
    tmp_path: Path,
) -> None:
    write_gz(
        tmp_path / "s.json.gz",
        [
            invoke_stream_record("2026-11-27T10:00:00Z", 3000, 400),
            invoke_stream_record("2026-11-27T10:00:01Z", 1000, 200),
            record("2026-11-27T10:00:02Z", latency_ms=2000),  # Converse: metrics.latencyMs, no first byte
        ],
    )
    usage = collect_logfiles(str(tmp_path), DAY)
    latency = usage.latency[CLAUDE]
    assert latency.max_ms == 3000
    assert latency.average_ms == pytest.approx((3000 + 1000 + 2000) / 3, abs=0.1)
    assert latency.first_byte_ms == pytest.approx((400 + 200) / 2)
    assert latency.to_dict()["first_byte_ms"] == pytest.approx(300)


def test_given_a_converse_stream_when_collected_then_its_metadata_latency_is_read_without_first_byte(
    tmp_path: Path,
) -> None:
    write_gz(tmp_path / "c.json.gz", [record("2026-11-27T10:00:00Z", stream=True, latency_ms=750)])
    latency = collect_logfiles(str(tmp_path), DAY).latency[CLAUDE]
    assert (latency.average_ms, latency.first_byte_ms) == (750, None)


@pytest.mark.parametrize("bad", [None, "fast", True, -5, float("inf")])
def test_given_a_metrics_chunk_without_a_usable_number_when_collected_then_no_latency_is_invented(
    tmp_path: Path, bad: Any
) -> None:
    write_gz(tmp_path / "b.json.gz", [invoke_stream_record("2026-11-27T10:00:00Z", bad, bad)])
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_model[CLAUDE].invocations == 1
    assert CLAUDE not in usage.latency


def test_given_identity_after_the_bodies_when_collected_then_the_caller_is_still_read(tmp_path: Path) -> None:
    rec = invoke_stream_record("2026-11-27T10:00:00Z", 900, 90, caller=BOB)
    late = {k: v for k, v in rec.items() if k != "identity"} | {"identity": rec["identity"]}
    assert list(late)[-1] == "identity"
    (tmp_path / "late.json").write_text(json.dumps(late))
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.by_caller[(BOB, CLAUDE)].invocations == 1
    assert (ALICE, CLAUDE) not in usage.by_caller


def _bedrock_runtime_errors() -> list[str]:
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    return sorted(shape.name for shape in model.error_shapes)


# Decided from the CloudWatch metric definitions (client-side / AWS server-side / throttled) and each
# exception's side in the API model (botocore bedrock-runtime: `senderFault`, HTTP status, `retryable`).
EXPECTED_KINDS = {
    "AccessDeniedException": "client",
    "ConflictException": "client",
    "InternalServerException": "server",
    "ModelErrorException": "client",
    "ModelNotReadyException": "client",
    "ModelStreamErrorException": "client",
    "ModelTimeoutException": "client",
    "ResourceNotFoundException": "client",
    "ServiceQuotaExceededException": "client",
    "ServiceUnavailableException": "server",
    "ThrottlingException": "throttle",
    "ValidationException": "client",
}


def test_every_bedrock_runtime_exception_has_a_decided_class() -> None:
    # A new exception in a botocore update must be looked at, not silently counted as a client error.
    assert _bedrock_runtime_errors() == sorted(EXPECTED_KINDS)


@pytest.mark.parametrize(("code", "kind"), sorted(EXPECTED_KINDS.items()))
def test_each_error_name_counts_in_the_class_the_readme_gives(tmp_path: Path, code: str, kind: str) -> None:
    assert error_kind(code) == kind
    write_gz(
        tmp_path / "e.json.gz",
        [record("2026-11-27T13:00:00Z", error_code=code, input_tokens=0, output_tokens=0)],
    )
    c = collect_logfiles(str(tmp_path), DAY).by_model[CLAUDE]
    expected = {
        "throttle": (0, 1, 0, 0),  # throttled calls are not Invocations, as in CloudWatch
        "server": (1, 0, 0, 1),
        "client": (1, 0, 1, 0),
    }[kind]
    assert (c.invocations, c.throttles, c.client_errors, c.server_errors) == expected


def test_the_readme_names_each_class_as_the_code_does() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("How log-file records are counted") :]
    section = section[: section.index("\n## ")]
    for code in EXPECTED_KINDS:
        assert code in section, code
    throttle_part = section[: section.index("server errors")]
    assert "ThrottlingException" in throttle_part
    assert "ServiceQuotaExceededException" not in throttle_part
    assert "ModelNotReadyException" not in throttle_part


def test_given_an_archive_of_several_regions_when_collected_then_each_calls_region_is_kept(
    tmp_path: Path,
) -> None:
    tokyo = record("2026-11-27T10:00:00Z", NOVA_LITE, input_tokens=1000, output_tokens=100)
    tokyo["region"] = "ap-northeast-1"
    write_gz(
        tmp_path / "r.json.gz",
        [tokyo, record("2026-11-27T10:00:01Z", NOVA_LITE, input_tokens=7, output_tokens=3)],
    )
    usage = collect_logfiles(str(tmp_path), DAY)
    assert usage.regions() == ["ap-northeast-1", "us-east-1"]
    assert usage.by_region[NOVA_LITE]["ap-northeast-1"].input_tokens == 1000
    assert usage.by_region[NOVA_LITE]["us-east-1"].output_tokens == 3


def test_given_requests_above_the_large_input_floor_when_collected_then_each_size_is_kept_apart(
    tmp_path: Path,
) -> None:
    big = LARGE_INPUT_FLOOR + 50_000
    write_gz(
        tmp_path / "l.json.gz",
        [
            record("2026-11-27T10:00:00Z", input_tokens=big - 1000, cache_read=1000, output_tokens=9),
            record("2026-11-27T10:00:01Z", input_tokens=LARGE_INPUT_FLOOR - 1, output_tokens=9),
        ],
    )
    usage = collect_logfiles(str(tmp_path), DAY)
    key = (CLAUDE, "us-east-1", ALICE, date(2026, 11, 27), True, big)
    assert list(usage.large_requests) == [key]
    assert usage.large_requests[key].output_tokens == 9
