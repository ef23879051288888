"""How an invocation log's errorCode counts, so that every collector agrees with CloudWatch's metrics.

InvocationThrottles are HTTP 429s, InvocationServerErrors 5xx, InvocationClientErrors the other 4xx.
The status of each code comes from botocore's bedrock-runtime service model rather than a hand-kept list.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import botocore.session

ErrorKind = Literal["throttle", "server", "client"]


@cache
def _http_status() -> dict[str, int]:
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    return {
        shape.name: int(shape.metadata.get("error", {}).get("httpStatusCode", 400))
        for shape in model.error_shapes
    }


def error_kind(code: str) -> ErrorKind:
    """'throttle', 'server' or 'client' for a Bedrock runtime error code; unknown codes count as client."""
    status = _http_status().get(code)
    if status is None and ("Throttl" in code or "TooManyRequests" in code):
        status = 429
    if status == 429:
        return "throttle"
    if status is not None and status >= 500:
        return "server"
    return "client"
