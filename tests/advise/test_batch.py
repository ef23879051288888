"""Finding 3: batch / flex candidates, priced at the AWS Price List's batch rates (Stubber-fed)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from bedrock_usage.model import Counts, Finding, Usage
from bedrock_usage.price import Pricer
from bedrock_usage.pricing.cache import Catalogue, FileStore
from botocore.stub import Stubber

from ..price.price_list_items import stub_region
from .conftest import ALICE, BOB, WINDOW, add, analysed, usage

TOKYO = "ap-northeast-1"
NOVA_PRO = "amazon.nova-pro-v1:0"


@pytest.fixture
def tokyo_pricer(tmp_path: Path) -> Pricer:
    client = boto3.client("pricing", region_name="us-east-1")
    with Stubber(client) as stub:
        stub_region(stub, TOKYO)
        cat = Catalogue(
            FileStore(tmp_path / "prices.json"), pricing=lambda: client, now=WINDOW.end - timedelta(hours=1)
        )
        cat.region(TOKYO)
    return Pricer(catalogue=cat, default_region=TOKYO)


def _traffic(caller: str) -> Usage:
    u = usage()
    # 1,000 calls of 10,000 input tokens on average
    counts = Counts(invocations=1000, input_tokens=10_000_000, output_tokens=500_000)
    add(u, NOVA_PRO, counts, caller)
    u.regional(NOVA_PRO, TOKYO).add(counts)
    return u


def _batch(u: Usage, pricer: Pricer | None) -> list[Finding]:
    return [f for f in analysed(u, pricer).findings if f.kind == "batch-candidate"]


def test_a_job_role_sending_large_requests_saves_the_batch_discount(tokyo_pricer: Pricer) -> None:
    found = _batch(_traffic(BOB), tokyo_pricer)  # BOB is assumed-role/BatchRole/job-42
    # Tokyo Nova Pro input: $0.96 per 1M on demand, $0.48 batch; output has no batch rate listed: unchanged
    saving = 10_000_000 * (Decimal("0.96") - Decimal("0.48")) / 1_000_000  # $4.80 in 24 h
    assert len(found) == 1
    assert found[0].monthly_usd == pytest.approx(saving * 730 / 24)  # $146.00
    assert float(found[0].monthly_usd or 0) == pytest.approx(146.0)
    assert found[0].evidence["signals"] == ["large_requests", "job_like_name"]
    assert "not certainty" in found[0].action


def test_interactive_looking_caller_is_not_a_candidate(tokyo_pricer: Pricer) -> None:
    assert _batch(_traffic(ALICE), tokyo_pricer) == []


def test_without_a_listed_batch_rate_the_saving_is_unpriced() -> None:
    found = _batch(_traffic(BOB), Pricer(default_region=TOKYO))  # no Price List: genai-prices has no tiers
    assert len(found) == 1
    assert found[0].monthly_usd is None
    assert "unpriced" in found[0].evidence
