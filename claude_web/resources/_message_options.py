"""Request options of the Messages calls added on top of ``create``: ``parse``, and the ``client.beta`` methods.

One builder for all of them, so the rules live in one place: "not given" markers are dropped, iterables become
lists, function tools become their definitions, ``betas=[...]`` becomes the ``anthropic-beta`` header (comma
joined, after any beta the helper itself needs; an ``anthropic-beta`` in ``extra_headers`` replaces it, as in
``anthropic``), beta calls carry ``?beta=true``, and helpers say which helper they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._base_client import FinalRequestOptions, make_request_options
from .._types import NOT_GIVEN, NotGiven, Omit

__all__ = ["beta_header", "message_options", "request_body"]

_LIST_PARAMS = ("messages", "tools", "stop_sequences", "mcp_servers")


def _given(value: object) -> bool:
    return not isinstance(value, (NotGiven, Omit))


def _tool_param(tool: Any) -> Any:
    to_dict = getattr(tool, "to_dict", None)
    if to_dict is not None and not isinstance(tool, Mapping):
        return to_dict()  # a function tool (beta_tool): send its definition
    return tool


def request_body(params: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body: given parameters only, iterables as lists, function tools as their definitions."""
    body = {key: value for key, value in params.items() if _given(value)}
    for key in _LIST_PARAMS:
        value = body.get(key)
        if value is not None and not isinstance(value, (list, str, dict)):
            body[key] = list(value)
    if isinstance(body.get("tools"), list):
        body["tools"] = [_tool_param(tool) for tool in body["tools"]]
    return body


def beta_header(betas: Iterable[str] | NotGiven | Omit | None, *required: str) -> dict[str, str]:
    """``{"anthropic-beta": "a,b"}`` from ``betas`` plus the betas a helper requires (``{}`` when neither)."""
    names = [str(name) for name in betas] if _given(betas) and betas is not None else None  # type: ignore[union-attr]
    if names is None and not required:
        return {}
    return {"anthropic-beta": ",".join([*(names or []), *required])}


def message_options(
    params: Mapping[str, Any],
    *,
    operation: str,
    url: str = "/v1/messages",
    stream: bool = False,
    beta: bool = False,
    betas: Iterable[str] | NotGiven | Omit | None = None,
    required_betas: tuple[str, ...] = (),
    helper: str | None = None,
    helper_method: str | None = None,
    extra_headers: Mapping[str, str | Omit] | None = None,
    extra_query: Mapping[str, object] | None = None,
    extra_body: Mapping[str, object] | None = None,
    timeout: Any = NOT_GIVEN,
) -> FinalRequestOptions:
    """``FinalRequestOptions`` of one Messages call."""
    body = request_body(params)
    if stream:
        body["stream"] = True
    headers: dict[str, str | Omit] = {}
    if helper is not None:
        headers["x-stainless-helper"] = helper
    if helper_method is not None:
        headers["x-stainless-helper-method"] = helper_method
    headers.update(beta_header(betas, *required_betas))
    headers.update(extra_headers or {})
    return FinalRequestOptions(
        method="post",
        url=url,
        json_data=body,
        usage_operation=operation,
        usage_model=body.get("model"),
        **make_request_options(
            extra_headers=headers,
            extra_query=extra_query,
            extra_body=extra_body,
            query={"beta": "true"} if beta else None,
            timeout=timeout,
        ),
    )
