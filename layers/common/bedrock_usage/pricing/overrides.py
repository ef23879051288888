"""User price overrides: per ModelId (any form) and a discount on list prices; they win over every source.

Read from inline JSON, a file, `s3://bucket/key` or `ssm:/parameter-name` (README: Prices).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.pricing.units import UnitPrices

PRICE_OVERRIDES_ENV = "BEDROCK_USAGE_PRICE_OVERRIDES"


class PriceOverrideError(ValueError):
    """The override file could not be read or is not in the documented format."""


@dataclass(frozen=True)
class PriceOverrides:
    """User prices that win over the library: per ModelId (any form), and a discount on library prices."""

    where: str
    models: dict[str, tuple[UnitPrices, str | None]]
    discount_percent: Decimal = Decimal(0)

    @classmethod
    def parse(cls, document: Any, where: str) -> PriceOverrides:
        if not isinstance(document, dict):
            raise PriceOverrideError(f"price overrides {where}: expected a JSON object")
        unknown = set(document) - {"models", "discount_percent", "comment"}
        if unknown:
            raise PriceOverrideError(f"price overrides {where}: unknown keys {sorted(unknown)}")
        models: dict[str, tuple[UnitPrices, str | None]] = {}
        entries = document.get("models", {})
        if not isinstance(entries, dict):
            raise PriceOverrideError(f"price overrides {where}: 'models' must be an object")
        for key, entry in entries.items():
            if not isinstance(entry, dict) or "input" not in entry or "output" not in entry:
                raise PriceOverrideError(f"price overrides {where}: {key!r} needs 'input' and 'output'")
            extra = set(entry) - {"input", "output", "cache_read", "cache_write", "note"}
            if extra:
                raise PriceOverrideError(f"price overrides {where}: {key!r} has unknown keys {sorted(extra)}")
            inp = _price(entry["input"], where, key)
            unit = UnitPrices(
                input=inp,
                output=_price(entry["output"], where, key),
                cache_read=_price(entry["cache_read"], where, key) if "cache_read" in entry else inp,
                cache_write=_price(entry["cache_write"], where, key) if "cache_write" in entry else inp,
            )
            models[key.strip()] = (unit, entry.get("note"))
        discount = _price(document.get("discount_percent", 0), where, "discount_percent")
        if discount >= 100:
            raise PriceOverrideError(f"price overrides {where}: discount_percent must be below 100")
        return cls(where=where, models=models, discount_percent=discount)


def _price(value: Any, where: str, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PriceOverrideError(f"price overrides {where}: {key!r}: {value!r} is not a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise PriceOverrideError(f"price overrides {where}: {key!r}: {value!r} is not a number") from exc
    if not amount.is_finite() or amount < 0:
        raise PriceOverrideError(f"price overrides {where}: {key!r}: {value!r} must be >= 0")
    return amount


def load_overrides(
    location: str, *, s3: Any = None, ssm: Any = None, client: Callable[[str], Any] | None = None
) -> PriceOverrides:
    """Read overrides from inline JSON, a file path, `s3://bucket/key` or `ssm:/parameter-name`.

    `client(service)` creates the S3/SSM client lazily when none is passed.
    """
    location = location.strip()
    try:
        if location.startswith("{"):
            return PriceOverrides.parse(json.loads(location), "inline")
        if location.startswith("s3://"):
            bucket, _, key = location[5:].partition("/")
            if not bucket or not key:
                raise PriceOverrideError(f"price overrides: {location!r} is not s3://bucket/key")
            s3 = s3 or (client or _default_client)("s3")
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            return PriceOverrides.parse(json.loads(body), location)
        if location.startswith("ssm:"):
            name = location[4:]
            ssm = ssm or (client or _default_client)("ssm")
            value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
            return PriceOverrides.parse(json.loads(value), location)
        return PriceOverrides.parse(json.loads(Path(location).read_text(encoding="utf-8")), location)
    except json.JSONDecodeError as exc:
        raise PriceOverrideError(f"price overrides {location}: not valid JSON ({exc})") from exc
    except OSError as exc:
        raise PriceOverrideError(f"price overrides {location}: cannot read ({exc.strerror or exc})") from exc
    except (ClientError, BotoCoreError) as exc:
        raise PriceOverrideError(f"price overrides {location}: {exc}") from exc


def _default_client(service: str) -> Any:
    import boto3

    return boto3.client(service)  # type: ignore[call-overload]


def overrides_from_env(**kwargs: Any) -> PriceOverrides | None:
    """The override named by $BEDROCK_USAGE_PRICE_OVERRIDES (location or inline JSON), if set."""
    location = os.environ.get(PRICE_OVERRIDES_ENV, "").strip()
    return load_overrides(location, **kwargs) if location else None
