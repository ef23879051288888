"""CurExport: the CUR 2.0 export, its bucket, Glue table and Athena workgroup exist only when asked for (and
only in us-east-1), the report's SQL reads only columns the export delivers, and the function's access is
scoped to them. The template is transformed offline and resolved as scripts/resolve_template.py does for
checkov (make template-check runs cfn-lint and checkov with CurExport=true and with the defaults)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from bedrock_usage.collect.cur import caller_sql

from scripts.resolve_template import resolve_template
from scripts.transform_template import transform_file

from ..conftest import REPO_ROOT

CUR_RESOURCES = {
    "CurBucket",
    "CurBucketPolicy",
    "CurExportDefinition",
    "CurDatabase",
    "CurTable",
    "CurWorkGroup",
}


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    return transform_file(REPO_ROOT / "template.yaml")


@pytest.fixture(scope="module")
def on(transformed: dict[str, Any]) -> dict[str, Any]:
    return resolve_template(transformed, {"CurExport": "true", "AlertEmail": "ops@example.com"})


def _report_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    role = next(r for name, r in template["Resources"].items() if name.startswith("ReportFunctionRole"))
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_nothing_of_the_export_exists_by_default(transformed: dict[str, Any]) -> None:
    off = resolve_template(transformed, {"AlertEmail": "ops@example.com"})
    assert not CUR_RESOURCES & set(off["Resources"])
    env = off["Resources"]["ReportFunction"]["Properties"]["Environment"]["Variables"]
    assert (env["CUR_TABLE"], env["CUR_WORKGROUP"]) == ("", "")
    assert not any("athena" in str(s["Action"]) for s in _report_statements(off))


def test_outside_us_east_1_cur_export_creates_nothing(
    transformed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    elsewhere = resolve_template(transformed, {"CurExport": "true", "AlertEmail": "ops@example.com"})
    assert not CUR_RESOURCES & set(elsewhere["Resources"])


def test_with_cur_export_the_resources_exist_and_the_function_knows_them(on: dict[str, Any]) -> None:
    assert set(on["Resources"]) >= CUR_RESOURCES
    env = on["Resources"]["ReportFunction"]["Properties"]["Environment"]["Variables"]
    assert env["CUR_WORKGROUP"] == {"Ref": "CurWorkGroup"}
    assert env["CUR_TABLE"] == {"Fn::Sub": "${CurDatabase}.cur2"}


def test_the_sql_reads_only_columns_the_export_delivers_and_the_table_declares(on: dict[str, Any]) -> None:
    export = on["Resources"]["CurExportDefinition"]["Properties"]["Export"]
    query = export["DataQuery"]["QueryStatement"]
    assert (
        export["DataQuery"]["TableConfigurations"]["COST_AND_USAGE_REPORT"]["INCLUDE_CALLER_IDENTITY"]
        == "TRUE"
    )
    assert (
        export["DestinationConfigurations"]["S3Destination"]["S3OutputConfigurations"]["Format"] == "PARQUET"
    )
    table = on["Resources"]["CurTable"]["Properties"]["TableInput"]
    declared = {c["Name"] for c in table["StorageDescriptor"]["Columns"]} | {
        k["Name"] for k in table["PartitionKeys"]
    }
    used = set(
        re.findall(
            r"\b(line_item_\w+|product|billing_period)\b",
            caller_sql("bedrock_usage_cur.cur2", date(2026, 11, 18)),
        )
    )
    assert used <= declared
    assert used - {"billing_period"} <= set(re.findall(r"\w+", query))


def test_the_workgroup_enforces_a_bytes_scanned_cutoff_and_its_own_result_location(
    on: dict[str, Any],
) -> None:
    config = on["Resources"]["CurWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] == 1073741824
    assert config["ResultConfiguration"]["OutputLocation"] == {"Fn::Sub": "s3://${CurBucket}/athena-results/"}


def test_the_bucket_is_tls_only_and_writable_only_by_this_accounts_data_exports(on: dict[str, Any]) -> None:
    statements = on["Resources"]["CurBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allow = next(s for s in statements if s["Effect"] == "Allow")
    assert set(allow["Principal"]["Service"]) == {
        "billingreports.amazonaws.com",
        "bcm-data-exports.amazonaws.com",
    }
    assert allow["Condition"]["StringLike"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    rules = on["Resources"]["CurBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {r["Id"] for r in rules} >= {"ExpireExports", "ExpireAthenaResults"}


def test_the_function_may_only_query_its_workgroup_and_read_its_export(on: dict[str, Any]) -> None:
    cur = [s for s in _report_statements(on) if "Cur" in str(s["Resource"]) or "glue" in str(s["Action"])]
    assert len(cur) == 5
    for statement in cur:
        assert "*" not in statement["Resource"]  # never a bare wildcard
    writes = [s for s in cur if "s3:PutObject" in s["Action"]]
    assert writes[0]["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${CurBucket}/athena-results/*"}
