"""Counting Bedrock invocation log records: one pass, flat memory, into the tables of a Usage.

Each record adds its counts to one table keyed by (day, model, caller, region, in window), summed into the
per-model, per-caller, daily and regional tables once at the end; latency goes into log-bucket histograms.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from bedrock_usage.collect import logfile_parse
from bedrock_usage.errors import error_kind
from bedrock_usage.model import Counts, LargeKey, Latency, TierKey, Usage, Window

SOURCE = "log-files"
MAX_SAMPLES = 5
# The lowest input size at which any Bedrock model's long-context rate starts (genai-prices 0.2.3 lists
# tiers from 100,000 tokens); larger requests are kept apart so each can be priced at its own tier.
LARGE_INPUT_FLOOR = 100_000
STREAM_METRICS = "amazon-bedrock-invocationMetrics"


class _Malformed(ValueError):
    pass


@dataclass(frozen=True)
class Seen:
    """One valid record in the window, for readers that need single requests (`bedrock-usage top`)."""

    moment: datetime
    model_id: str
    caller: str
    region: str
    request_id: str
    counts: Counts  # this one request
    service_tier: str | None


@dataclass
class _LatencyHistogram:
    """Flat-memory latency summary: exact mean, minimum and maximum; percentiles from 1%-wide log buckets."""

    n: int = 0
    total: float = 0.0
    maximum: float = 0.0
    buckets: dict[int, int] = field(default_factory=dict)
    minimum: float = math.inf

    _BASE = math.log(1.01)

    def add(self, ms: float) -> None:
        self.n += 1
        self.total += ms
        # Comparisons, not max()/min(): this runs once per record and the builtin calls cost more.
        if ms > self.maximum:
            self.maximum = ms
        if ms < self.minimum:
            self.minimum = ms
        b = int(math.log(ms if ms > 1.0 else 1.0) / self._BASE)
        buckets = self.buckets
        buckets[b] = buckets.get(b, 0) + 1

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile, within 1% of the true value and never outside [minimum, maximum].

        The bucket's middle stands for every value in it; the lowest and highest buckets also hold the
        true minimum and maximum, so the middle is clamped to them: a percentile cannot read below the
        fastest call or above the slowest, and identical values give exactly that value.
        """
        if not self.n:
            raise ValueError("no latency values")
        rank = max(1, math.ceil(q * self.n))
        seen = 0
        for b in sorted(self.buckets):
            seen += self.buckets[b]
            if seen >= rank:
                return min(max(math.exp((b + 0.5) * self._BASE), self.minimum), self.maximum)
        return self.maximum

    def summary(self) -> Latency:
        return Latency(
            average_ms=round(self.total / self.n, 1),
            p50_ms=round(self.percentile(0.50), 1),
            p90_ms=round(self.percentile(0.90), 1),
            p99_ms=round(self.percentile(0.99), 1),
            max_ms=self.maximum,
        )

    def merge(self, other: _LatencyHistogram) -> None:
        """Add `other`'s values: the histogram one read over both sets of values would have built."""
        self.n += other.n
        self.total += other.total
        self.maximum = max(self.maximum, other.maximum)
        self.minimum = min(self.minimum, other.minimum)
        for b, count in other.buckets.items():
            self.buckets[b] = self.buckets.get(b, 0) + count


@dataclass
class Latencies:
    """A read's latency as it was counted, per model: histograms and first-byte [sum ms, count].

    Unlike the summaries in Usage.latency (percentiles cannot be added), these merge exactly, so reads of
    several log locations give the latency one read of all their files would.
    """

    histograms: dict[str, _LatencyHistogram] = field(default_factory=dict)
    first_byte: dict[str, list[float]] = field(default_factory=dict)

    def merge(self, other: Latencies) -> Latencies:
        """Add `other` into self (copying, so the two never share a histogram) and return self."""
        for model_id, hist in other.histograms.items():
            self.histograms.setdefault(model_id, _LatencyHistogram()).merge(hist)
        for model_id, (total, n) in other.first_byte.items():
            acc = self.first_byte.setdefault(model_id, [0.0, 0])
            acc[0] += total
            acc[1] += n
        return self

    def summaries(self) -> dict[str, Latency]:
        """Each model's Latency: percentiles from its histogram, time to first byte the mean of all calls."""
        summaries = {model_id: hist.summary() for model_id, hist in self.histograms.items()}
        for model_id, (total, n) in self.first_byte.items():
            summaries.setdefault(model_id, Latency()).first_byte_ms = round(total / n, 1)
        return summaries


class _Aggregator:
    def __init__(
        self, window: Window, span_start: datetime, on_record: Callable[[Seen], None] | None = None
    ) -> None:
        self.window = window
        self.on_record = on_record
        self.span_start = span_start
        self.usage = Usage(window=window, source=SOURCE)
        self.latency: dict[str, _LatencyHistogram] = {}
        # One table keyed by (day, model, caller, region, in window, accountId): by model, by caller, daily
        # and by region are its sums, made once in finish() instead of four lookups and adds per record;
        # the record's accountId (None unless a string) lets collect/logfile_accounts.py split by account.
        self.cells: dict[tuple[date, str, str, str, bool, str | None], list[int]] = {}
        self.large: dict[LargeKey, list[int]] = {}
        self.tiers: dict[TierKey, list[int]] = {}
        self.first_byte: dict[str, list[float]] = {}  # model_id -> [sum ms, count]
        self.samples: list[str] = []
        # Bound once: the engine may be switched after import, as the benchmark and tests do.
        self._parse = logfile_parse.line_parser()
        # Records of one second share a timestamp: the last one's parse and window checks are reused.
        self._stamp: str | None = None
        self._when: tuple[datetime, date, bool, bool] | None = None

    def skip(self, where: str, reason: str) -> None:
        self.usage.skipped_records += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(f"{where}: {reason}")

    def line(self, raw: bytes | str | memoryview, where: str, lineno: int | None = None) -> None:
        """Count one JSON line; `where` (with `lineno` when given) names it in a skip's sample."""
        try:
            record = self._parse(raw)
        except ValueError:
            text = bytes(raw) if isinstance(raw, memoryview) else raw
            if not text or text.isspace():
                return  # a blank line: checked only here, as no parser accepts one
            # The fast engine refuses a few lines json accepts (a lone surrogate, NaN, a shape its
            # schema does not expect): the standard library's verdict decides, so both count the same.
            try:
                record = json.loads(text)
            except ValueError:  # JSONDecodeError and UnicodeDecodeError: a cut or corrupt line
                self.skip(_where(where, lineno), "not valid JSON (truncated line?)")
                return
        try:  # not through record(): one call fewer per line, on the scan's hot path
            self._add(record)
        except _Malformed as exc:
            self.skip(_where(where, lineno), str(exc))

    def record(self, record: Any, where: str) -> None:
        """Count one parsed record, or note why it is skipped."""
        try:
            self._add(record)
        except _Malformed as exc:
            self.skip(where, str(exc))

    def _when_of(self, stamp: str) -> tuple[datetime, date, bool, bool]:
        """(moment in UTC, its day, within the span read, within the window) of a timestamp."""
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError as exc:
            raise _Malformed(f"bad timestamp {stamp[:40]!r}") from exc
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        in_span = self.span_start <= moment < self.window.end
        return moment, moment.date(), in_span, in_span and moment >= self.window.start

    def _add(self, rec: Any) -> None:
        # The hot path: one call per record, so lookups are bound locally and the common shapes (int
        # token counts, no error, no tier) take the shortest way; the rare ones go through the checks.
        if type(rec) is not dict:
            raise _Malformed("record is not a JSON object")
        get = rec.get
        stamp, model_id = get("timestamp"), get("modelId")
        if type(stamp) is not str or type(model_id) is not str or not model_id:
            raise _Malformed("record has no timestamp or modelId")
        if stamp == self._stamp and self._when is not None:
            moment, day, in_span, in_window = self._when
        else:
            moment, day, in_span, in_window = self._when = self._when_of(stamp)
            self._stamp = stamp
        if not in_span:
            return  # outside the window: not our business, and not malformed
        inp, out = get("input") or {}, get("output") or {}
        if type(inp) is not dict or type(out) is not dict:
            raise _Malformed("input/output is not an object")
        code = get("errorCode")
        if code is not None and type(code) is not str:
            raise _Malformed("errorCode is not a string")
        # Plain int vectors in Counts field order: a dataclass per record would halve the throughput.
        n_in = inp.get("inputTokenCount", 0)
        if type(n_in) is not int or n_in < 0:
            n_in = _tokens(inp, "inputTokenCount")
        n_out = out.get("outputTokenCount", 0)
        if type(n_out) is not int or n_out < 0:
            n_out = _tokens(out, "outputTokenCount")
        n_read = inp.get("cacheReadInputTokenCount", 0)
        if type(n_read) is not int or n_read < 0:
            n_read = _tokens(inp, "cacheReadInputTokenCount")
        n_write = inp.get("cacheWriteInputTokenCount", 0)
        if type(n_write) is not int or n_write < 0:
            n_write = _tokens(inp, "cacheWriteInputTokenCount")
        vec = [1, n_in, n_out, n_read, n_write, 0, 0, 0]
        if code:
            kind = error_kind(code)
            if kind == "throttle":
                # CloudWatch's Invocations excludes throttled requests; count them apart, as it does.
                vec[0], vec[7] = 0, 1
            elif kind == "server":
                vec[6] = 1
            else:
                vec[5] = 1
        identity = get("identity")
        caller = identity.get("arn") if type(identity) is dict else None
        caller = caller if type(caller) is str and caller else "unknown"
        region = get("region")
        region = region if type(region) is str and region else "unknown"
        account = get("accountId")
        account = account if type(account) is str else None
        _bump(self.cells, (day, model_id, caller, region, in_window, account), vec)
        total_input = n_in + n_read + n_write
        if total_input >= LARGE_INPUT_FLOOR:
            _bump(self.large, (model_id, region, caller, day, in_window, total_input), vec)
        in_body, out_body = inp.get("inputBodyJson"), out.get("outputBodyJson")
        tier = None
        if (type(in_body) is dict and "serviceTier" in in_body) or (
            type(out_body) is dict and "serviceTier" in out_body
        ):
            tier = _service_tier(inp, out)
        if tier is not None:
            _bump(self.tiers, (model_id, region, caller, day, in_window, tier), vec)
        if not in_window:
            return  # only for the daily series
        if code:
            self.usage.errors_by_code[code] = self.usage.errors_by_code.get(code, 0) + 1
        latency: float | None
        first_byte: float | None
        metrics = out_body.get("metrics") if type(out_body) is dict else None
        if type(metrics) is dict and type(ms := metrics.get("latencyMs")) is int and ms >= 0:
            latency, first_byte = float(ms), None  # a Converse body, the common case
        else:
            latency, first_byte = _body_latency_ms(out_body)
        if latency is not None:
            hist = self.latency.get(model_id)
            if hist is None:
                hist = self.latency[model_id] = _LatencyHistogram()
            hist.add(latency)
        if first_byte is not None:
            acc = self.first_byte.setdefault(model_id, [0.0, 0])
            acc[0] += first_byte
            acc[1] += 1
        if self.on_record is not None:
            request_id = get("requestId")
            self.on_record(Seen(moment, model_id, caller, region, str(request_id or "-"), Counts(*vec), tier))

    def latencies(self) -> Latencies:
        """The latency counted so far, in the mergeable form (shared with this aggregator, not copied)."""
        return Latencies(self.latency, self.first_byte)

    def finish(self) -> Usage:
        """The Usage counted so far: the cells summed by model, caller, day and region."""
        models: dict[str, list[int]] = {}
        callers: dict[tuple[str, str], list[int]] = {}
        daily: dict[tuple[date, str], list[int]] = {}
        regional: dict[tuple[str, str], list[int]] = {}
        # Cells are in the order their first record came, so each sum keeps its first-seen order too.
        for (day, model_id, caller, region, in_window, _account), vec in self.cells.items():
            _bump(daily, (day, model_id), vec)
            if in_window:
                _bump(models, model_id, vec)
                _bump(callers, (caller, model_id), vec)
                _bump(regional, (model_id, region), vec)
        for model_id, vec in models.items():
            self.usage.by_model[model_id] = Counts(*vec)
        for key, vec in callers.items():
            self.usage.by_caller[key] = Counts(*vec)
        for (day, model_id), vec in daily.items():
            self.usage.daily.setdefault(day, {})[model_id] = Counts(*vec)
        for (model_id, region), vec in regional.items():
            self.usage.by_region.setdefault(model_id, {})[region] = Counts(*vec)
        for size_key, vec in self.large.items():
            self.usage.large_requests[size_key] = Counts(*vec)
        for tier_key, vec in self.tiers.items():
            self.usage.service_tiers[tier_key] = Counts(*vec)
        self.usage.latency.update(self.latencies().summaries())
        if self.usage.skipped_records:
            self.usage.warnings.append(
                f"{self.usage.skipped_records} malformed log record(s) skipped; first: "
                + " | ".join(self.samples)
            )
        return self.usage


def _where(where: str, lineno: int | None) -> str:
    return where if lineno is None else f"{where}:{lineno}"


def _bump(table: dict[Any, list[int]], key: Any, vec: list[int]) -> None:
    acc = table.get(key)
    if acc is None:
        table[key] = vec.copy()
    else:  # unrolled: a loop over the eight fields costs more than the record's other work
        acc[0] += vec[0]
        acc[1] += vec[1]
        acc[2] += vec[2]
        acc[3] += vec[3]
        acc[4] += vec[4]
        acc[5] += vec[5]
        acc[6] += vec[6]
        acc[7] += vec[7]


def _tokens(part: dict[str, Any], name: str) -> int:
    value = part.get(name, 0)
    if value is None:
        return 0
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)  # NaN/Infinity (stdlib json reads them): int() would raise
        or value < 0
        or value != int(value)
    ):
        raise _Malformed(f"{name} is not a token count: {value!r}"[:120])
    return int(value)


def _body_latency_ms(body: Any) -> tuple[float | None, float | None]:
    """(latency, time to first byte) in ms from the response body, each None where it says nothing.

    Converse bodies carry `metrics.latencyMs`; ConverseStream's last chunk carries `metadata.metrics`;
    InvokeModelWithResponseStream's last chunk carries `amazon-bedrock-invocationMetrics` with
    `invocationLatency` and `firstByteLatency` (the only record kind that gives time to first byte).
    """
    if isinstance(body, dict):
        metrics = body.get("metrics")
        if isinstance(metrics, dict):
            return _number(metrics.get("latencyMs")), None
        return _stream_metrics(body)
    if isinstance(body, list):
        for chunk in reversed(body):
            if not isinstance(chunk, dict):
                continue
            meta = chunk.get("metadata")
            if isinstance(meta, dict) and isinstance(meta.get("metrics"), dict):
                return _number(meta["metrics"].get("latencyMs")), None
            found = _stream_metrics(chunk)
            if found != (None, None):
                return found
    return None, None


def _service_tier(inp: dict[str, Any], out: dict[str, Any]) -> str | None:
    """'flex' or 'priority' when the Converse request (or its response) names that service tier.

    Converse carries `serviceTier: {type}` in the request and response bodies (botocore bedrock-runtime);
    InvokeModel sends it as a header, which the log does not keep: such calls count as standard.
    """
    for body in (inp.get("inputBodyJson"), out.get("outputBodyJson")):
        if isinstance(body, dict):
            tier = body.get("serviceTier")
            name = tier.get("type") if isinstance(tier, dict) else tier
            if name in ("flex", "priority"):
                return str(name)
    return None


def _stream_metrics(chunk: dict[str, Any]) -> tuple[float | None, float | None]:
    metrics = chunk.get(STREAM_METRICS)
    if not isinstance(metrics, dict):
        return None, None
    return _number(metrics.get("invocationLatency")), _number(metrics.get("firstByteLatency"))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None
