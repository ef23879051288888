"""Billed Bedrock cost per calling IAM principal, from a CUR 2.0 export, with one Athena query.

Athena does the grouping where the bill lies, so nothing but the grouped rows reaches Lambda, at any bill
size; the workgroup's bytes-scanned cutoff bounds what one query may cost. The export must include the caller
identity (Data Exports "include caller identity (IAM principal)"; column `line_item_iam_principal`, one of
the columns CUR 2.0 adds over legacy CUR per the Data Exports user guide, "Migrating from CUR to Data Exports
CUR 2.0"; REFERENCE.md §14.2).

CUR 2.0 columns used (Data Exports table dictionary, COST_AND_USAGE_REPORT; the same names appear in public
CUR 2.0 queries such as awssteph/reinvent25-cop401 `BedrockCostAllocation.sql` and ministryofjustice
aws-root-account `data-export.tf`): `line_item_usage_start_date` (timestamp), `line_item_line_item_type`,
`line_item_usage_type`, `line_item_usage_amount` (double), `line_item_unblended_cost` (double),
`line_item_iam_principal` (string), `product` (map<string,string>, key `product_name`, e.g.
"Claude 3 Haiku (Amazon Bedrock Edition)"), and the partition `billing_period` ("2026-11").

The SQL keeps to what Athena (Trino) and DuckDB both accept (CASE, LIKE, ||, split_part, map subscript,
TIMESTAMP literals, GROUP BY ordinals), so the tests run it for real on DuckDB over a Parquet file.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_REGION_PREFIX = re.compile(r"^[A-Z0-9]+-(MP:[A-Z0-9]+_)?")
_DIRECTION = re.compile(r"-(input|output|cache).*$", re.I)
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


class CurQueryError(RuntimeError):
    """The Athena query failed, was cancelled or did not finish in time."""


@dataclass(frozen=True)
class PrincipalCost:
    """Billed cost and usage quantity of one principal (roles, not sessions) on one model and usage type."""

    principal: str
    product: str
    usage_type: str
    cost_usd: Decimal
    usage_amount: (
        Decimal  # in the usage type's billing unit (tokens, or thousands/millions: see pricing_unit)
    )

    @property
    def model(self) -> str:
        """The Marketplace service name, or for first-party Bedrock the model stem of the usage type."""
        if self.product and self.product != "Amazon Bedrock":
            return self.product
        return _DIRECTION.sub("", _REGION_PREFIX.sub("", self.usage_type)) or self.usage_type


def caller_sql(table: str, day: date) -> str:
    """The query for one UTC day of `table` (`database.table`), grouped per principal, product, usage type."""
    if not _TABLE.match(table):
        raise ValueError(f"not a table name: {table!r}")
    start, end = day.isoformat(), (day + timedelta(days=1)).isoformat()
    # An assumed-role session ARN collapses to its role ARN, so one role's sessions add up.
    # S608: the only interpolations are the checked table name and dates formatted here.
    return f"""SELECT
  CASE WHEN line_item_iam_principal LIKE 'arn:%:sts::%:assumed-role/%'
    THEN 'arn:' || split_part(line_item_iam_principal, ':', 2) || ':iam::'
      || split_part(line_item_iam_principal, ':', 5) || ':role/'
      || split_part(split_part(line_item_iam_principal, ':', 6), '/', 2)
    ELSE line_item_iam_principal END AS principal,
  product['product_name'] AS product_name,
  line_item_usage_type AS usage_type,
  SUM(line_item_unblended_cost) AS cost,
  SUM(line_item_usage_amount) AS usage_amount
FROM {table}
WHERE billing_period = '{day:%Y-%m}'
  AND line_item_line_item_type = 'Usage'
  AND line_item_iam_principal IS NOT NULL AND line_item_iam_principal <> ''
  AND line_item_usage_start_date >= TIMESTAMP '{start} 00:00:00'
  AND line_item_usage_start_date < TIMESTAMP '{end} 00:00:00'
GROUP BY 1, 2, 3
ORDER BY 4 DESC, 1, 3"""  # noqa: S608


def to_costs(rows: Iterable[Iterable[Any]]) -> list[PrincipalCost]:
    """Result rows (principal, product_name, usage_type, cost, usage_amount) as PrincipalCost."""
    return [
        PrincipalCost(str(p), str(m or ""), str(u), Decimal(str(c or 0)), Decimal(str(a or 0)))
        for p, m, u, c, a in rows
    ]


def session_to_role(arn: str) -> str:
    """The role ARN of an assumed-role session ARN (as the SQL does); any other ARN unchanged."""
    m = re.match(r"^arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/", arn)
    return f"arn:{m.group(1)}:iam::{m.group(2)}:role/{m.group(3)}" if m else arn


@dataclass
class AthenaResult:
    rows: list[list[str | None]]
    bytes_scanned: int


def run_athena(
    athena: Any,
    sql: str,
    workgroup: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    timeout_s: float = 60,
    poll_s: float = 1.0,
) -> AthenaResult:
    """Start the query in `workgroup`, wait for it, and read every page of its results (header row dropped).

    Raises CurQueryError when it fails, is cancelled or outlasts `timeout_s` (then it is stopped).
    """
    qid = athena.start_query_execution(QueryString=sql, WorkGroup=workgroup)["QueryExecutionId"]
    waited = 0.0
    while True:
        execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        state = execution["Status"]["State"]
        if state in TERMINAL:
            break
        if waited >= timeout_s:
            athena.stop_query_execution(QueryExecutionId=qid)
            raise CurQueryError(f"Athena query {qid} still {state} after {timeout_s:g} s; stopped")
        sleep(poll_s)
        waited += poll_s
    scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0))
    if state != "SUCCEEDED":
        reason = execution["Status"].get("StateChangeReason", "no reason given")
        raise CurQueryError(f"Athena query {qid} {state}: {reason} ({scanned:,} bytes scanned)")
    rows: list[list[str | None]] = []
    kwargs: dict[str, Any] = {"QueryExecutionId": qid}
    first = True
    while True:
        page = athena.get_query_results(**kwargs)
        for i, row in enumerate(page["ResultSet"]["Rows"]):
            if first and i == 0:
                continue  # Athena returns the column names as the first row of the first page
            rows.append([d.get("VarCharValue") for d in row["Data"]])
        first = False
        token = page.get("NextToken")
        if not token:
            return AthenaResult(rows=rows, bytes_scanned=scanned)
        kwargs["NextToken"] = token
