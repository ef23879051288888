"""The exactly-once record of each digest, one DynamoDB item per (window, recipients).

A run writes a "sending" marker (conditional put) just before it hands the digest to SES or SNS, and the
MessageId once the service accepted it. A later run of the same window that finds:
- the MessageId: replays the stored result and sends nothing;
- a marker without a MessageId: sends nothing either, and says "possibly delivered" (the earlier run may have
  crashed after the service accepted the message, or before; nobody can tell, so it is never sent twice).
The marker has no in-progress timeout: only the table's TTL (IDEMPOTENCY_EXPIRY_S) ends it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

SENDING = "SENDING"
SENT = "SENT"
IDEMPOTENCY_EXPIRY_S = 2 * 24 * 3600  # outlives Scheduler retries (<= 24 h) and Lambda async retries (<= 6 h)


@dataclass(frozen=True)
class LedgerEntry:
    """What an earlier run recorded for this digest."""

    status: str  # SENDING or SENT
    started_at: str
    run_id: str
    message_id: str | None = None
    result: dict[str, Any] | None = None


class SendLedger:
    """One digest's record in the idempotency table (key `id`, TTL on `expiration`, as in template.yaml)."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        key: Mapping[str, Any],
        *,
        run_id: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()
        self.id = f"digest#{digest}"
        self._dynamodb = dynamodb
        self._table = table
        self._run_id = run_id
        self._clock = clock
        self.claimed = False

    def read(self) -> LedgerEntry | None:
        """The live record of this digest, if any (strongly consistent; an expired one counts as none)."""
        item = self._dynamodb.get_item(
            TableName=self._table, Key={"id": {"S": self.id}}, ConsistentRead=True
        ).get("Item")
        return self._entry(item)

    def claim(self) -> LedgerEntry | None:
        """Write the "sending" marker: None when this run holds it, else the record that was there first."""
        if self.claimed:
            return None
        now = int(self._clock())
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "id": {"S": self.id},
                    "status": {"S": SENDING},
                    "run_id": {"S": self._run_id},
                    "started_at": {"S": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")},
                    "expiration": {"N": str(now + IDEMPOTENCY_EXPIRY_S)},
                },
                # DynamoDB deletes expired items only eventually: an expired record is as good as none.
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old: Any = exc.response.get("Item")  # ALL_OLD: the record that won
            entry = self._entry(old) or self.read()
            if entry is None:  # it expired between the check and the read: take it
                return self.claim()
            return entry
        self.claimed = True
        return None

    def record_sent(self, message_id: str, result: Mapping[str, Any]) -> bool:
        """Store the MessageId and the run's result; False (and an error log) when DynamoDB failed.

        Never raises: the digest is out, and failing the run now would only make Lambda retry it.
        """
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"id": {"S": self.id}},
                UpdateExpression="SET #s = :sent, message_id = :mid, #r = :result",
                ExpressionAttributeNames={"#s": "status", "#r": "result"},
                ExpressionAttributeValues={
                    ":sent": {"S": SENT},
                    ":mid": {"S": message_id},
                    ":result": {"S": json.dumps(result, default=str)},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            log.error(
                "digest delivered (MessageId %s) but its record could not be saved: a retry of this window "
                "will report it as possibly delivered and will not send it again",
                message_id,
                extra={"error": str(exc), "ledger_id": self.id},
            )
            return False
        return True

    def release(self) -> None:
        """Remove this run's marker: nothing was sent, so a retry must be free to send."""
        if not self.claimed:
            return
        try:
            self._dynamodb.delete_item(
                TableName=self._table,
                Key={"id": {"S": self.id}},
                ConditionExpression="run_id = :me AND #s = :sending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":me": {"S": self._run_id}, ":sending": {"S": SENDING}},
            )
            self.claimed = False
        except (ClientError, BotoCoreError) as exc:
            log.error(
                "nothing was sent, but the sending marker could not be removed: a retry of this window will "
                "report it as possibly delivered; delete item %s from the table to let it send",
                self.id,
                extra={"error": str(exc), "ledger_id": self.id},
            )

    def _entry(self, item: Mapping[str, Any] | None) -> LedgerEntry | None:
        if not item:
            return None
        expiration = item.get("expiration", {}).get("N")
        if expiration is not None and int(expiration) < int(self._clock()):
            return None
        raw_result = item.get("result", {}).get("S")
        return LedgerEntry(
            status=item.get("status", {}).get("S", SENDING),
            started_at=item.get("started_at", {}).get("S", "?"),
            run_id=item.get("run_id", {}).get("S", "?"),
            message_id=item.get("message_id", {}).get("S"),
            result=json.loads(raw_result) if raw_result else None,
        )
