"""Collectors: read Bedrock usage from CloudWatch metrics, Logs Insights, log files and Cost Explorer."""
