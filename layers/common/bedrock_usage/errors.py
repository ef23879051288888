"""How an invocation log's errorCode counts, so that every collector agrees with CloudWatch's metrics.

AWS defines the three error metrics by who is at fault (Bedrock user guide, "Monitor bedrock-runtime
inference using CloudWatch metrics"): `InvocationClientErrors` "result in client-side errors",
`InvocationServerErrors` "result in AWS server-side errors", `InvocationThrottles` are the invocations
"the system throttled". The API model states the side of every exception: botocore's bedrock-runtime
model marks client-side errors `senderFault: true` and AWS-side ones without it (InternalServerException
500, ServiceUnavailableException 503). So:

- throttle: HTTP 429 that the model does not declare non-throttling (`ThrottlingException`);
- server: no `senderFault` (`InternalServerException`, `ServiceUnavailableException`);
- client: every other code, including `ServiceQuotaExceededException` (400, sender fault),
  `ModelErrorException` and `ModelStreamErrorException` (424, sender fault), `ModelTimeoutException` (408)
  and `ModelNotReadyException` (429, but declared `retryable: {throttling: false}` and sender fault).

Codes the model does not know count as client errors, except names that plainly say throttling.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import botocore.session

ErrorKind = Literal["throttle", "server", "client"]


@cache
def _kinds() -> dict[str, ErrorKind]:
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    kinds: dict[str, ErrorKind] = {}
    for shape in model.error_shapes:
        error = shape.metadata.get("error", {})
        status = int(error.get("httpStatusCode", 400))
        not_throttling = shape.metadata.get("retryable", {}).get("throttling") is False
        if status == 429 and not not_throttling:
            kinds[shape.name] = "throttle"
        elif not error.get("senderFault", False) and status >= 500:
            kinds[shape.name] = "server"
        else:
            kinds[shape.name] = "client"
    return kinds


def error_kind(code: str) -> ErrorKind:
    """'throttle', 'server' or 'client' for a Bedrock runtime error code; unknown codes count as client."""
    kind = _kinds().get(code)
    if kind is not None:
        return kind
    if "Throttl" in code or "TooManyRequests" in code:
        return "throttle"
    return "client"
