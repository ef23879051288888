"""One Jinja environment for every email and report: autoescaped, templates shipped in the package.

Jinja and the CSS inliner are imported on first use, not with this module: a cold start that only forwards
a notification, or fails early, does not pay for them (bench/coldstart.py measures handler imports).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

TINY = Decimal("0.0001")
if TYPE_CHECKING:
    from jinja2 import Environment


def usd(value: Decimal | float | None, places: int = 2) -> str:
    """'$1,234.56'; under a cent keeps 4 decimals, under $0.0001 reads '< $0.0001' (priced, not zero);
    negative amounts read '-$0.04'; None -> 'unpriced'."""
    if value is None:
        return "unpriced"
    amount = Decimal(str(value))
    if -TINY < amount < 0:
        return f"> -${TINY}"
    if amount < 0:
        return "-" + usd(-amount, places)
    if 0 < amount < TINY:
        return f"< ${TINY}"
    if amount != 0 and amount < Decimal("0.01"):
        return f"${amount:.4f}"
    return f"${amount:,.{places}f}"


def cache_effect(value: Decimal | float | None) -> str | None:
    """Prompt caching's net effect in words: 'saved $1.20', or 'cost $0.04 more than it saved'."""
    if value is None:
        return None
    amount = Decimal(str(value))
    if amount < 0:
        return f"cost {usd(-amount)} more than it saved"
    return f"saved {usd(amount)}"


def count(value: int | float | None) -> str:
    """Thousands separators; 'n/a' for None."""
    return "n/a" if value is None else f"{value:,.0f}"


def percent(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


_BREAK_AFTER = re.compile(r"([/.:_@-])")


def wbr(value: str | None) -> Markup:
    """Escape `value` and allow line breaks after / . : _ @ - (long model IDs and ARNs on phones)."""
    return Markup(_BREAK_AFTER.sub(r"\1<wbr>", str(escape(value or ""))))  # noqa: S704 - escaped first


@cache
def environment() -> Environment:
    """The shared environment. Autoescape is on for .html and .j2.html; text templates are not escaped."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("bedrock_usage", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(usd=usd, count=count, percent=percent, wbr=wbr, cache_effect=cache_effect)
    return env


@cache
def _inliner() -> Any:
    import css_inline

    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    """Move <style> rules into style attributes: Gmail and Outlook drop or ignore most <style> blocks."""
    return str(_inliner().inline(html))


def digest_line(top: dict[str, Any] | None) -> str | None:
    """'Most expensive request: $0.08, user/alice on <model>, 151,000 tokens at <time> (request <id>)'."""
    if not top:
        return None
    caller = str(top["caller"])
    caller = caller.split(":", 5)[-1] if caller.startswith("arn:") else caller
    return (
        f"Most expensive request: {usd(top['cost_usd'], 4)}, {caller} on {top['model_id']}, "
        f"{count(top['total_tokens'])} tokens at {top['time']} (request {top['request_id']})"
    )
