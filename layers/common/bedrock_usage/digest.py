"""The daily digest: a Report rendered as an HTML email (CSS inlined) with a plain-text alternative.

`digest_view` turns the Report into plain display values (pure, testable); the two Jinja templates
only lay them out. Long lists are cut to the top N so the HTML stays under Gmail's 102 KB clip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from .accounts_view import accounts_view
from .advise_view import worth_doing
from .billing_view import billed_view, callers_view, gap_view, teams_view
from .model import CallerLine, DayLine, ModelLine, Report
from .render import cache_effect, digest_line, environment, inline_css, percent, usd

GMAIL_CLIP_BYTES = 102 * 1024  # Gmail hides everything after ~102 KB of HTML behind "[Message clipped]"
HTML_BUDGET = 96 * 1024  # what the digest allows itself: a margin for what SES adds (MIME headers, encoding)
SUBJECT_MAX = 99
TREND_DAYS = 14
MAX_PROBLEMS = 8  # warnings listed one by one; the rest are counted
MAX_TEXT = 90  # display width for IDs and ARNs that callers control

# What "abnormal" means in the health table (the seed's alarm defaults, REFERENCE/PRODUCT: 10,000 ms).
HIGH_LATENCY_MS = 10_000.0
HIGH_ERROR_RATE = 0.05


@dataclass(frozen=True)
class Digest:
    """One rendered digest: the subject line, inlined HTML and the plain-text alternative."""

    subject: str
    html: str
    text: str

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))


def render_digest(
    report: Report,
    *,
    dashboard_url: str | None = None,
    insights_url: str | None = None,
    top_n: int = 10,
) -> Digest:
    """Render `report` as the digest email: subject, HTML (CSS inlined) and text."""
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    env = environment()
    while True:
        view = digest_view(report, dashboard_url=dashboard_url, insights_url=insights_url, top_n=top_n)
        html = compact_html(inline_css(env.get_template("digest.html").render(v=view)))
        # Rows are bounded by top_n and every caller-controlled string is clipped, so this is rare
        # (very long IDs everywhere); shorter lists are better than a clipped email.
        if len(html.encode("utf-8")) <= HTML_BUDGET or top_n <= 3:
            break
        top_n = max(3, top_n * 2 // 3)
    text = env.get_template("digest.txt").render(v=view)
    return Digest(subject=view["subject"], html=html, text=text)


# ---------------------------------------------------------------------------------------------- view


def digest_view(
    report: Report, *, dashboard_url: str | None, insights_url: str | None, top_n: int
) -> dict[str, Any]:
    """Everything the templates show, as display-ready values (no formatting logic in templates)."""
    totals = report.totals
    prev = report.previous_totals
    unpriced_models = [m for m in report.models if m.cost_usd is None]
    return {
        "subject": subject_line(report),
        "window": window_label(report),
        "span": span_label(report.window.hours),
        "regions": ", ".join(report.regions) or "-",
        "source": report.source,
        "generated": report.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "headline": {
            "cost": headline_cost(report),
            "cost_change": change(report.cost_change),
            "tokens": compact(totals.total_tokens),
            "tokens_exact": f"{totals.total_tokens:,}",
            "tokens_change": change(ratio_change(totals.total_tokens, prev.total_tokens if prev else None)),
            "invocations": f"{totals.invocations:,}",
            "invocations_change": change(
                ratio_change(totals.invocations, prev.invocations if prev else None)
            ),
            "errors": f"{totals.errors:,}",
            "error_rate": percent(rate(totals.errors, totals.invocations)),
            "throttles": f"{totals.throttles:,}",
            "previous_cost": usd(report.previous_cost_usd) if report.previous_cost_usd is not None else None,
            "unpriced_invocations": report.unpriced_invocations,
            "unpriced_models": len(unpriced_models),
        },
        "incomplete": [f"{f.source}: {clip(f.message, 160)}" for f in report.failures[:3]]
        + ([f"and {len(report.failures) - 3} more"] if len(report.failures) > 3 else []),
        "worth": worth_doing(report),
        "trend": trend_rows(report.daily[-TREND_DAYS:]),
        "models": model_rows(report, top_n),
        "models_more": more(report.models, top_n, lambda m: m.cost_usd, lambda m: m.counts),
        "callers": caller_rows(report.callers[:top_n], report.cost_usd),
        "callers_more": more(report.callers, top_n, lambda c: c.cost_usd, lambda c: c.counts),
        "accounts": accounts_view(report.accounts, report.accounts_notes, top_n),
        "cache": cache_view(report, top_n),
        "health": health_rows(report.models[:top_n]),
        "latency_missing": latency_missing(report),
        "top_request": clip(digest_line(report.top_request), 300) or None,
        "health_more": max(0, len(report.models) - top_n),
        "errors_by_code": [
            {"code": clip(code, 60), "count": f"{n:,}"}
            for code, n in sorted(report.errors_by_code.items(), key=lambda kv: -kv[1])[:top_n]
        ],
        "month": month_view(report),
        "billed": billed_view(report),
        "gap": gap_view(report),
        "teams": teams_view(report),
        "callers_billed": callers_view(report),
        "unpriced": [
            {
                "model": clip(display_model(m.model_id), MAX_TEXT),
                "invocations": f"{m.counts.invocations:,}",
                "tokens": compact(m.counts.total_tokens),
                "note": clip(m.price.note or "no price known for this model", 200),
            }
            for m in unpriced_models[:top_n]
        ],
        "unpriced_more": max(0, len(unpriced_models) - top_n),
        "problems": problems_view(report),
        "price_sources": ", ".join(sorted({m.price.source for m in report.models if m.price.priced})) or "-",
        "dashboard_url": dashboard_url,
        "insights_url": insights_url,
    }


def subject_line(report: Report) -> str:
    """E.g. 'Bedrock usage, 24 h to 28 Nov 2026: $1,234.56 est. (+12.3%)'; ASCII, under 100 characters.

    ASCII so that the same subject works for SES and for SNS (which rejects anything else).
    """
    end = report.window.end.astimezone(UTC)
    subject = (
        f"Bedrock usage, {span_label(report.window.hours)} to {end:%d %b %Y}: {headline_cost(report)} est."
    )
    if report.cost_change is not None:
        subject += f" ({report.cost_change:+.1%})"
    if report.unpriced_invocations:
        subject += " [+ unpriced usage]"
    if report.failures:
        subject += " [incomplete data]"
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 3] + "..."


def headline_cost(report: Report) -> str:
    """The priced cost, or "unpriced" when there was usage but none of it could be priced (never $0.00)."""
    if report.unpriced_invocations and not any(
        m.cost_usd is not None and m.counts.invocations for m in report.models
    ):
        return "unpriced"
    return usd(report.cost_usd)


def span_label(hours: float) -> str:
    """'24 h', '7 days', '30 days', '36 h', '1.5 h'."""
    if hours >= 48 and hours % 24 == 0:
        return f"{int(hours // 24)} days"
    return f"{hours:g} h"


def window_label(report: Report) -> str:
    start, end = (t.astimezone(UTC) for t in (report.window.start, report.window.end))
    if start.year == end.year:
        return f"{start:%a %d %b %H:%M} - {end:%a %d %b %Y %H:%M} UTC"
    return f"{start:%a %d %b %Y %H:%M} - {end:%a %d %b %Y %H:%M} UTC"


# ------------------------------------------------------------------------------------------ sections


def model_rows(report: Report, top_n: int) -> list[dict[str, Any]]:
    top_cost = max((m.cost_usd for m in report.models if m.cost_usd is not None), default=Decimal(0))
    rows = []
    for m in report.models[:top_n]:
        shown = display_model(m.model_id)
        resolved = m.price.resolved_model
        rows.append(
            {
                "name": clip(short_model(m.model_id), MAX_TEXT),
                "model_id": clip(shown, MAX_TEXT),
                "resolved": clip(resolved, MAX_TEXT) if resolved and resolved not in shown else None,
                "cost": usd(m.cost_usd),
                "priced": m.cost_usd is not None,
                "approximate": m.price.approximate,
                "share": percent(m.share) if m.share is not None else "-",
                "bar": bar_pct(m.cost_usd, top_cost),
                "input": compact(m.counts.total_input_tokens),
                "output": compact(m.counts.output_tokens),
                "invocations": f"{m.counts.invocations:,}",
                "change": change(cost_ratio(m.cost_usd, m.previous_cost_usd)),
            }
        )
    return rows


def caller_rows(callers: list[CallerLine], total_cost: Decimal) -> list[dict[str, Any]]:
    top_cost = max((c.cost_usd for c in callers if c.cost_usd is not None), default=Decimal(0))
    return [
        {
            "name": clip(display_caller(c.caller), MAX_TEXT),
            "arn": clip(c.caller, 300),
            "cost": usd(c.cost_usd) if c.cost_usd is not None else "unpriced",
            "share": percent(float(c.cost_usd / total_cost))
            if c.cost_usd is not None and total_cost
            else "-",
            "bar": bar_pct(c.cost_usd, top_cost),
            "tokens": compact(c.counts.total_tokens),
            "invocations": f"{c.counts.invocations:,}",
            "unpriced_invocations": f"{c.unpriced_invocations:,}" if c.unpriced_invocations else None,
            "models": ", ".join(clip(short_model(m), 40) for m in c.models[:3])
            + (f" +{len(c.models) - 3}" if len(c.models) > 3 else ""),
        }
        for c in callers
    ]


def trend_rows(days: list[DayLine]) -> list[dict[str, Any]]:
    top = max((max(d.cost_usd or Decimal(0), d.billed_usd or Decimal(0)) for d in days), default=Decimal(0))
    return [
        {
            "label": f"{d.day:%a %d %b}",
            "cost": usd(d.cost_usd) if d.cost_usd is not None else "unpriced",
            "billed": usd(d.billed_usd) if d.billed_usd is not None else None,
            "bar": bar_pct(d.cost_usd, top),
            "tokens": compact(d.counts.total_tokens),
            "invocations": f"{d.counts.invocations:,}",
        }
        for d in days
    ]


def cache_view(report: Report, top_n: int) -> dict[str, Any]:
    totals = report.totals
    rows = [
        {
            "name": clip(short_model(m.model_id), MAX_TEXT),
            "model_id": clip(m.model_id, 200),
            "read": compact(m.counts.cache_read_tokens),
            "write": compact(m.counts.cache_write_tokens),
            "hit": percent(rate(m.counts.cache_read_tokens, m.counts.total_input_tokens)),
            "savings": cache_effect(m.cache_savings_usd) or "-",
        }
        for m in report.models
        if m.counts.cache_read_tokens or m.counts.cache_write_tokens
    ]
    net = report.cache_savings_usd
    return {
        # A negative net (writes cost more than reads saved) is said in words, never as "saved $-0.04".
        "savings": usd(abs(net)) if net is not None else None,
        "savings_label": "more paid for cache writes than cache reads saved"
        if net is not None and net < 0
        else "saved by cache reads",
        "effect": cache_effect(net),
        "read": compact(totals.cache_read_tokens),
        "write": compact(totals.cache_write_tokens),
        "hit": percent(rate(totals.cache_read_tokens, totals.total_input_tokens)),
        "rows": rows[:top_n],
        "more": max(0, len(rows) - top_n),
        "used": bool(totals.cache_read_tokens or totals.cache_write_tokens),
    }


def latency_missing(report: Report) -> str | None:
    """Why no model shows a latency, when none does: say so rather than leave a column of dashes."""
    if not report.models or any(m.latency and m.latency.average_ms is not None for m in report.models):
        return None
    if report.source == "log-files":
        return (
            "No latency: these log records carry none. Bedrock logs it in the response body, which is logged "
            "only with TextDataDelivery=true; the CloudWatch metrics (the report's usual source) have it."
        )
    return "No latency: CloudWatch returned no InvocationLatency for these models in this window."


def health_rows(models: list[ModelLine]) -> list[dict[str, Any]]:
    rows = []
    for m in models:
        lat = m.latency
        c = m.counts
        err_rate = rate(c.errors, c.invocations)
        slow_avg = lat is not None and lat.average_ms is not None and lat.average_ms >= HIGH_LATENCY_MS
        slow_p99 = lat is not None and lat.p99_ms is not None and lat.p99_ms >= HIGH_LATENCY_MS
        failing = err_rate is not None and err_rate >= HIGH_ERROR_RATE
        rows.append(
            {
                "name": clip(short_model(m.model_id), MAX_TEXT),
                "model_id": clip(m.model_id, 200),
                "avg": ms(lat.average_ms if lat else None),
                "p90": ms(lat.p90_ms if lat else None),
                "p99": ms(lat.p99_ms if lat else None),
                "client": f"{c.client_errors:,}",
                "server": f"{c.server_errors:,}",
                "throttles": f"{c.throttles:,}",
                "error_rate": percent(err_rate),
                "slow_avg": slow_avg,
                "slow_p99": slow_p99,
                "failing": failing,
                "throttled": c.throttles > 0,
                "abnormal": slow_avg or slow_p99 or failing or c.throttles > 0,
            }
        )
    return rows


def month_view(report: Report) -> dict[str, Any] | None:
    if report.month_to_date_usd is None and report.projected_month_usd is None and report.budget_usd is None:
        return None
    budget = report.budget_usd if report.budget_usd else None
    mtd, projected = report.month_to_date_usd, report.projected_month_usd
    used = float(mtd / budget) if budget and mtd is not None else None
    proj = float(projected / budget) if budget and projected is not None else None
    return {
        "mtd": usd(mtd) if mtd is not None else "n/a",
        "projected": usd(projected) if projected is not None else "n/a",
        "budget": usd(budget) if budget else None,
        "used": percent(used) if used is not None else None,
        "projected_share": percent(proj) if proj is not None else None,
        # The bar: month-to-date, then the rest of the projection, both capped at the budget.
        "bar_used": min(100, round((used or 0) * 100)),
        "bar_projected": max(0, min(100, round((proj or 0) * 100)) - min(100, round((used or 0) * 100))),
        "over": proj is not None and proj > 1,
        "over_now": used is not None and used > 1,
    }


def problems_view(report: Report) -> dict[str, Any]:
    warnings = [clip(w, 300) for w in report.warnings]
    return {
        "failures": [
            {"source": f.source, "message": clip(f.message, 500)} for f in report.failures[:MAX_PROBLEMS]
        ],
        "failures_more": max(0, len(report.failures) - MAX_PROBLEMS),
        "skipped": f"{report.skipped_records:,}" if report.skipped_records else None,
        "warnings": warnings[:MAX_PROBLEMS],
        "warnings_more": max(0, len(warnings) - MAX_PROBLEMS),
        "any": bool(report.failures or report.skipped_records or report.warnings),
    }


def more(items: list[Any], top_n: int, cost_of: Any, counts_of: Any) -> dict[str, str] | None:
    """'and K more' with what they add up to, so nothing cut from the list is lost from view."""
    rest = items[top_n:]
    if not rest:
        return None
    costs = [cost_of(i) for i in rest if cost_of(i) is not None]
    tokens = sum(counts_of(i).total_tokens for i in rest)
    return {
        "count": f"{len(rest):,}",
        "cost": usd(sum(costs, Decimal(0))) if costs else "unpriced",
        "tokens": compact(tokens),
        "invocations": f"{sum(counts_of(i).invocations for i in rest):,}",
    }


# ------------------------------------------------------------------------------------------- helpers

_CLASS_IN_TAG = re.compile(r'(<[a-z][a-z0-9]*\b[^<>]*?) class="[^"<>]*"')
_STYLE_IN_TAG = re.compile(r'(<[a-z][a-z0-9]*\b[^<>]*?) style="([^"<>]*)"')


def compact_html(html: str) -> str:
    """Drop class attributes (their rules are inlined now) and spaces inside style attributes.

    Safe on serialized HTML: quotes inside attribute values are escaped, and text cannot hold a raw
    `<`, so both patterns only ever match inside a tag.
    """
    html = _CLASS_IN_TAG.sub(r"\1", html)
    return _STYLE_IN_TAG.sub(lambda m: f'{m.group(1)} style="{_tight(m.group(2))}"', html)


def _tight(style: str) -> str:
    return re.sub(r"\s*([:;])\s*", r"\1", style).rstrip(";")


_ARN_MODEL = re.compile(r"^arn:aws[\w-]*:bedrock:[^:]*:[^:]*:(?P<kind>[\w-]+)/(?P<id>.+)$")
_ARN_CALLER = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::\d*:(?P<rest>.+)$")


def display_model(model_id: str) -> str:
    """A model ARN shortened to its ID (`inference-profile/us.x` -> `us.x`); other IDs unchanged."""
    match = _ARN_MODEL.match(model_id)
    if not match:
        return model_id
    kind, ident = match["kind"], match["id"]
    return ident if kind in ("inference-profile", "foundation-model") else f"{kind}/{ident}"


_GEO = re.compile(r"^(?:us-gov|us|eu|apac|jp|au|ca|in|global)\.")
_PROVIDER = re.compile(
    r"^(?:anthropic|amazon|meta|mistral|cohere|ai21|deepseek|openai|qwen|writer|twelvelabs)\."
)
_VERSION = re.compile(r"(?:-\d{8})?(?:-v\d+(?::\d+)?)?$")


def short_model(model_id: str) -> str:
    """A readable name: `us.anthropic.claude-sonnet-4-5-20250929-v1:0` -> `claude-sonnet-4-5 (us)`."""
    ident = display_model(model_id)
    if "/" in ident:  # application profile or provisioned model: its ID is all there is
        return ident
    geo = _GEO.match(ident)
    name = _VERSION.sub("", _PROVIDER.sub("", ident[geo.end() :] if geo else ident)) or ident
    return f"{name} ({geo.group(0)[:-1]})" if geo else name


def display_caller(arn: str) -> str:
    """`arn:aws:sts::123:assumed-role/Role/session` -> `assumed-role/Role/session`."""
    match = _ARN_CALLER.match(arn)
    return match["rest"] if match else arn


def clip(value: str | None, limit: int) -> str:
    """One line, at most `limit` characters: caller-controlled text must not break the layout."""
    if value is None:
        return ""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def compact(n: int | None) -> str:
    """1234 -> '1,234'; 1234567 -> '1.23M'; 2_500_000_000 -> '2.50B'."""
    if n is None:
        return "n/a"
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M")):
        if abs(n) >= size:
            return f"{n / size:.2f}{suffix}"
    return f"{n:,}"


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else part / whole


def ratio_change(current: int, previous: int | None) -> float | None:
    if previous is None or previous == 0:
        return None
    return (current - previous) / previous


def cost_ratio(current: Decimal | None, previous: Decimal | None) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    return float((current - previous) / previous)


def change(value: float | None) -> dict[str, str] | None:
    """A signed change for display: text and direction (up/down/flat); None when not comparable."""
    if value is None:
        return None
    direction = "flat" if abs(value) < 0.005 else ("up" if value > 0 else "down")
    return {"text": f"{value:+.1%}", "dir": direction}


def bar_pct(value: Decimal | None, top: Decimal) -> int:
    """Bar width in percent of the largest value; a non-zero value is at least 1% so it shows."""
    if value is None or top <= 0 or value <= 0:
        return 0
    return max(1, min(100, round(float(value / top) * 100)))


def dashboard_link(region: str, name: str) -> str:
    """Console URL of a CloudWatch dashboard."""
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#dashboards/dashboard/{quote(name, safe='')}"
    )


def insights_link(region: str, log_group: str, hours: float) -> str:
    """Console URL of Logs Insights with the invocation log group selected and the window's length.

    The console's fragment encoding: URL-encode, then write '%' as '*'; '~' separates values.
    """
    group = quote(log_group, safe="").replace("%", "*")
    seconds = int(hours * 3600)
    detail = f"~(end~0~start~-{seconds}~timeType~'RELATIVE~unit~'seconds~source~(~'{group}))"
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logsV2:logs-insights$3FqueryDetail$3D{detail}"
    )
