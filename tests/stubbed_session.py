"""A real boto3 session whose clients of the named services answer from botocore's Stubber (for the APIs
moto does not emulate faithfully; the Stubber checks every request and response against the service model)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.stub import Stubber


class StubbedSession(boto3.session.Session):
    """Each client made for a service in `responders` gets a Stubber, filled by that responder and active."""

    def __init__(self, responders: Mapping[str, Callable[[Stubber], None]]) -> None:
        super().__init__()
        self.responders = responders
        self.stubbers: list[Stubber] = []

    def client(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        made = super().client(*args, **kwargs)
        service = args[0] if args else kwargs.get("service_name")
        if service in self.responders:
            stubber = Stubber(made)
            self.responders[service](stubber)
            stubber.activate()
            self.stubbers.append(stubber)
        return made
