"""The Price List catalogue, fetched at most daily per Region and kept where the next run finds it.

Where: a JSON object in S3 for the Lambda (the log bucket, under a prefix), a file under ~/.cache for the
CLI. The catalogue is read once per report. A Region's rates younger than MAX_AGE are used as they are;
older or missing ones are fetched again. When the Price List cannot be reached, stale rates are used (with
a warning naming their date); with none at all the Region is priced from genai-prices (with a warning).
Never raises for a Price List or store failure: the digest must go out.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_usage.pricing.price_list import RegionRates, fetch_region

logger = logging.getLogger(__name__)

MAX_AGE = timedelta(days=1)
CACHE_ENV = "BEDROCK_USAGE_PRICE_CACHE"  # s3://bucket/key, a file path, or "off"
SCHEMA = 1
_ERRORS = (ClientError, BotoCoreError, OSError, ValueError, KeyError, TypeError)


class Store(Protocol):
    """Where the catalogue rests between runs."""

    def read(self) -> bytes | None: ...
    def write(self, body: bytes) -> None: ...


@dataclass
class FileStore:
    """A local JSON file (the CLI's cache)."""

    path: Path

    def read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def write(self, body: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(body)
        tmp.replace(self.path)


@dataclass
class S3Store:
    """An S3 object (the report Lambda's cache, in the log bucket)."""

    s3: Any
    bucket: str
    key: str

    def read(self) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=self.bucket, Key=self.key)["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def write(self, body: bytes) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self.key,
            Body=body,
            ContentType="application/json",
            ServerSideEncryption="AES256",
        )


def default_cli_path() -> Path:
    """~/.cache/bedrock-usage/price-list.json (XDG_CACHE_HOME respected)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bedrock-usage" / "price-list.json"


def store_from(location: str, client: Callable[[str], Any]) -> Store | None:
    """`s3://bucket/key` -> S3Store, "off" -> None (no Price List), anything else -> FileStore."""
    if location.strip().lower() == "off":
        return None
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        if not bucket or not key:
            raise ValueError(f"price cache {location!r} is not s3://bucket/key")
        return S3Store(client("s3"), bucket, key)
    return FileStore(Path(location).expanduser())


def read_regions[T](store: Store, schema: int, what: str, parse: Callable[[Any], T]) -> dict[str, T]:
    """A cache's entries per Region, parsed; {} when there is none, it has another schema or is unreadable."""
    try:
        body = store.read()
        data = json.loads(body) if body is not None else {}
        if data.get("schema") != schema:
            return {}
        return {str(region): parse(entry) for region, entry in data.get("regions", {}).items()}
    except _ERRORS as exc:
        # An unreadable cache is only a cache: fetch again.
        logger.warning(f"{what} cache unreadable", extra={"error": str(exc)})
        return {}


def write_regions(store: Store, schema: int, what: str, regions: dict[str, Any]) -> str | None:
    """Write a cache's entries per Region; on failure log it and return the report's warning (never raise)."""
    body = json.dumps({"schema": schema, "regions": dict(sorted(regions.items()))}).encode()
    try:
        store.write(body)
    except _ERRORS as exc:
        logger.warning(f"{what} cache not saved", extra={"error": str(exc)})
        return f"{what} cache not saved ({type(exc).__name__}); it is fetched again next run"
    return None


@dataclass
class Catalogue:
    """Price List rates per Region, loaded lazily, refreshed when older than MAX_AGE."""

    store: Store | None
    pricing: Callable[[], Any] | None  # returns a Price List client; None: never fetch (cache only)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    warnings: list[str] = field(default_factory=list)
    _regions: dict[str, RegionRates] = field(default_factory=dict)
    _loaded: bool = False
    _dirty: bool = False
    _unreachable: str | None = None

    def region(self, region: str) -> RegionRates | None:
        """The Region's rates (fresh, else stale with a warning), or None when there are none."""
        self._load()
        cached = self._regions.get(region)
        if cached is not None and self.now - cached.fetched_at < MAX_AGE:
            return cached
        fetched = self._fetch(region)
        if fetched is not None:
            self._regions[region] = fetched
            self._dirty = True
            return fetched
        if cached is not None:
            self.warnings.append(
                f"AWS Price List unreachable ({self._unreachable}); {region} priced from the catalogue "
                f"fetched {cached.fetched_at:%Y-%m-%d %H:%M} UTC"
            )
            return cached
        self.warnings.append(
            f"AWS Price List unreachable ({self._unreachable}); {region} priced from genai-prices "
            "(US list prices, not that Region's)"
        )
        return None

    def save(self) -> None:
        """Write newly fetched Regions back to the store (a failure is logged, never raised)."""
        if not self._dirty or self.store is None:
            return
        regions = {r: v.to_json() for r, v in self._regions.items()}
        problem = write_regions(self.store, SCHEMA, "price list", regions)
        if problem:
            self.warnings.append(problem)
        else:
            self._dirty = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.store is not None:
            self._regions = read_regions(self.store, SCHEMA, "price list", RegionRates.from_json)

    def _fetch(self, region: str) -> RegionRates | None:
        if self.pricing is None:
            self._unreachable = self._unreachable or "not queried: cache only"
            return None
        if self._unreachable is not None:
            return None  # one failure per report is enough: do not wait on every Region
        try:
            return fetch_region(self.pricing(), region, self.now)
        except _ERRORS as exc:
            code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
            self._unreachable = code or type(exc).__name__
            logger.warning("price list unreachable", extra={"region": region, "error": str(exc)})
            return None
