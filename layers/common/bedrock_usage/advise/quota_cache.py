"""Service Quotas' Bedrock per-minute quotas, listed at most daily per Region and kept beside the Price List
cache (same folder or S3 prefix, `service-quotas.json`).

Listing them takes several ListServiceQuotas pages a Region (Bedrock has hundreds of quotas, 100 a page), the
most calls the findings make; a quota changes only when an increase is granted, so a day-old list serves.
A store failure never raises: the quotas are listed again and the report says the cache was not saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bedrock_usage.advise.quotas import Quota, QuotaKey, quota_index, quota_list
from bedrock_usage.pricing.cache import Store, read_regions, store_from, write_regions

MAX_AGE = timedelta(days=1)
FILE_NAME = "service-quotas.json"
SCHEMA = 1


def store_beside(price_cache: str | None, client: Callable[[str], Any]) -> Store | None:
    """The store next to the Price List cache's location; None when that is unset, "off" or malformed."""
    if not price_cache or price_cache.strip().lower() == "off":
        return None
    if price_cache.startswith("s3://"):
        location = f"{price_cache.rpartition('/')[0]}/{FILE_NAME}"
    else:
        location = str(Path(price_cache).expanduser().parent / FILE_NAME)
    try:
        return store_from(location, client)
    except ValueError:
        return None  # a malformed price cache location is reported by the Price List catalogue


@dataclass
class QuotaCache:
    """Applied and default quota lists per Region; a list younger than MAX_AGE is not listed again."""

    store: Store | None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    warnings: list[str] = field(default_factory=list)
    # region -> "applied" | "defaults" -> (when listed, the quotas)
    _lists: dict[str, dict[str, tuple[datetime, list[Quota]]]] = field(default_factory=dict)
    _loaded: bool = False
    _dirty: bool = False

    def index(self, service_quotas: Any, region: str, *, defaults: bool = False) -> dict[QuotaKey, Quota]:
        """The Region's quotas by (scope, requests|tokens, model name): cached if fresh, else listed."""
        self._load()
        which = "defaults" if defaults else "applied"
        cached = self._lists.get(region, {}).get(which)
        if cached is not None and self.now - cached[0] < MAX_AGE:
            return quota_index(cached[1])
        listed = quota_list(service_quotas, defaults=defaults)
        self._lists.setdefault(region, {})[which] = (self.now, listed)
        self._dirty = True
        return quota_index(listed)

    def save(self) -> None:
        """Write newly listed quotas back to the store (a failure is logged and named, never raised)."""
        if not self._dirty or self.store is None:
            return
        regions = {
            region: {
                which: {"fetched_at": at.isoformat(), "quotas": [[q.code, q.name, q.value] for q in listed]}
                for which, (at, listed) in sorted(lists.items())
            }
            for region, lists in self._lists.items()
        }
        problem = write_regions(self.store, SCHEMA, "service quotas", regions)
        if problem:
            self.warnings.append(problem)
        else:
            self._dirty = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.store is not None:
            self._lists = read_regions(self.store, SCHEMA, "service quotas", _parse)


def _parse(lists: dict[str, Any]) -> dict[str, tuple[datetime, list[Quota]]]:
    """One Region's cached lists: "applied" | "defaults" -> (when listed, the quotas)."""
    return {
        str(which): (
            datetime.fromisoformat(entry["fetched_at"]).astimezone(UTC),
            [Quota(str(code), str(name), float(value)) for code, name, value in entry["quotas"]],
        )
        for which, entry in lists.items()
    }
