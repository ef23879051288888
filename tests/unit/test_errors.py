"""errorCode classification shared by the log-file and Logs Insights collectors."""

import pytest
from bedrock_usage.errors import error_kind


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("ThrottlingException", "throttle"),  # 429
        ("ModelNotReadyException", "client"),  # 429, but declared non-throttling and sender fault
        ("InternalServerException", "server"),  # 500
        ("ServiceUnavailableException", "server"),  # 503
        ("ValidationException", "client"),  # 400
        ("AccessDeniedException", "client"),  # 403
        ("ModelErrorException", "client"),  # 424: CloudWatch counts it with the 4xx client errors
        ("ServiceQuotaExceededException", "client"),  # 400
        ("TooManyRequestsException", "throttle"),  # not a bedrock-runtime code, but plainly a throttle
        ("SomethingNewException", "client"),
    ],
)
def test_error_codes_count_as_cloudwatch_counts_them(code: str, kind: str) -> None:
    assert error_kind(code) == kind
