"""The Message Batches routes of FakeClaude (``/v1/messages/batches``): create, list, retrieve, cancel, delete and
results, kept in memory. A batch ends after ``polls_until_end`` retrieves; its results are the answers the app gives
each request's params."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from ._http import APIError, FakeResponse, api_headers, json_body, json_response, page
from ._replies import random_id
from ._validation import validate_create
from ._wire import dumps, iso

__all__ = ["Batches"]


class Batches:
    """The batches of one fake API. Thread-safe. ``answer`` gives the message a request's params get."""

    def __init__(self, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self._answer = answer
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Any]] = {}
        self.polls_until_end = 1

    def clear(self) -> None:
        """Forget every batch; batches end after one retrieve again."""
        with self._lock:
            self._items.clear()
        self.polls_until_end = 1

    @staticmethod
    def _view(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    @staticmethod
    def _end(batch: dict[str, Any]) -> None:
        n = len(batch["_requests"])
        canceled = batch["processing_status"] == "canceling"
        batch["processing_status"] = "ended"
        batch["request_counts"] = {
            "processing": 0,
            "succeeded": 0 if canceled else n,
            "errored": 0,
            "canceled": n if canceled else 0,
            "expired": 0,
        }
        batch["ended_at"] = iso(datetime.now(timezone.utc))
        batch["results_url"] = f"{batch['_base']}/v1/messages/batches/{batch['id']}/results"

    def route(
        self, method: str, rest: list[str], query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> FakeResponse:
        if not rest:
            if method == "POST":
                return json_response(200, self._create(headers, body))
            if method == "GET":
                with self._lock:
                    items = [self._view(b) for b in reversed(self._items.values())]
                return json_response(200, page(items, query))
            raise APIError(404, "Not Found")
        batch_id = rest[0]
        with self._lock:
            batch = self._items.get(batch_id)
            if batch is None:
                raise APIError(404, f"message_batch: {batch_id} not found")
            if len(rest) == 1 and method == "GET":
                batch["_polls"] += 1
                if batch["processing_status"] != "ended" and batch["_polls"] >= self.polls_until_end:
                    self._end(batch)
                return json_response(200, self._view(batch))
            if len(rest) == 1 and method == "DELETE":
                if batch["processing_status"] != "ended":
                    raise APIError(
                        400,
                        f"Message batch {batch_id} cannot be deleted while it is being processed; "
                        "cancel it first and wait for it to end.",
                    )
                del self._items[batch_id]
                return json_response(200, {"id": batch_id, "type": "message_batch_deleted"})
            if rest[1:] == ["cancel"] and method == "POST":
                if batch["processing_status"] == "in_progress":
                    batch["processing_status"] = "canceling"
                    batch["cancel_initiated_at"] = iso(datetime.now(timezone.utc))
                return json_response(200, self._view(batch))
            if rest[1:] == ["results"] and method == "GET":
                if batch["processing_status"] != "ended":
                    raise APIError(400, f"Message batch {batch_id} has not ended yet; results are not available.")
                requests = list(batch["_requests"])
                canceled = batch["request_counts"]["canceled"] > 0
            else:
                raise APIError(404, "Not Found")
        lines = []
        for item in requests:
            if canceled:
                result: dict[str, Any] = {"type": "canceled"}
            else:
                message = self._answer(item["params"])
                result = {"type": "succeeded", "message": message}
            lines.append(dumps({"custom_id": item["custom_id"], "result": result}))
        return FakeResponse(200, api_headers("application/x-jsonl"), ("\n".join(lines) + "\n").encode())

    def _create(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        payload = json_body(body)
        requests = payload.get("requests")
        if not isinstance(requests, list):
            raise APIError(
                400, "requests: Field required" if requests is None else "requests: Input should be a valid list"
            )
        if not requests:
            raise APIError(400, "requests: List should have at least 1 item after validation, not 0")
        seen: set[str] = set()
        for i, item in enumerate(requests):
            if not isinstance(item, dict) or not isinstance(item.get("custom_id"), str):
                raise APIError(400, f"requests.{i}.custom_id: Field required")
            if item["custom_id"] in seen:
                raise APIError(400, f"requests.{i}.custom_id: duplicate custom_id {item['custom_id']!r}")
            seen.add(item["custom_id"])
            params = item.get("params")
            if not isinstance(params, dict):
                raise APIError(400, f"requests.{i}.params: Field required")
            validate_create(params, f"requests.{i}.params.")
        now = datetime.now(timezone.utc)
        batch: dict[str, Any] = {
            "id": random_id("msgbatch_"),
            "type": "message_batch",
            "processing_status": "in_progress",
            "request_counts": {"processing": len(requests), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
            "ended_at": None,
            "created_at": iso(now),
            "expires_at": iso(now + timedelta(hours=24)),
            "archived_at": None,
            "cancel_initiated_at": None,
            "results_url": None,
            "_requests": [{"custom_id": r["custom_id"], "params": r["params"]} for r in requests],
            "_polls": 0,
            "_base": "http://" + headers.get("host", "127.0.0.1"),
        }
        with self._lock:
            self._items[batch["id"]] = batch
        return self._view(batch)
