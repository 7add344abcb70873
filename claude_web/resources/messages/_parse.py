"""``client.messages.parse``: a Messages call whose answer is validated into a Python type.

>>> class Person(pydantic.BaseModel):
...     name: str
...     age: int
>>> message = client.messages.parse(model=..., max_tokens=1024, messages=[...], output_format=Person)
>>> message.parsed_output  # Person(name=..., age=...)

The type's JSON schema (through :func:`~claude_web.transform_schema`) is sent as ``output_config.format``;
every text block of the answer gets ``parsed_output``. Text that does not validate raises
``pydantic.ValidationError``, as in ``anthropic``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ..._base_client import FinalRequestOptions
from ..._types import NOT_GIVEN, NotGiven, Omit
from .._message_options import message_options

if TYPE_CHECKING:  # the structured-outputs modules load on the first parse() (import time stays flat)
    from ...types.parsed_message import ParsedMessage, ResponseFormatT

__all__ = ["AsyncParseMixin", "ParseMixin", "parse_options"]

Headers = Mapping[str, "str | Omit"]


def parse_options(
    params: dict[str, Any],
    output_format: Any,
    stream: Any,
    *,
    extra_headers: Headers | None,
    extra_query: Mapping[str, object] | None,
    extra_body: Mapping[str, object] | None,
    timeout: Any,
    operation: str = "messages.parse",
    **beta: Any,
) -> FinalRequestOptions:
    """The request of a ``parse`` call: ``output_format`` folded into ``output_config.format``."""
    from ...lib._parse import with_output_format

    if stream is True:
        raise TypeError("parse() does not stream: use messages.stream(..., output_format=...) and get_final_message()")
    params["output_config"] = with_output_format(params.get("output_config", NOT_GIVEN), output_format)
    return message_options(
        params,
        operation=operation,
        helper=beta.pop("helper", "messages.parse"),
        extra_headers=extra_headers,
        extra_query=extra_query,
        extra_body=extra_body,
        timeout=timeout,
        **beta,
    )


def _parsed_message_type() -> type[ParsedMessage[Any]]:
    from ...types.parsed_message import ParsedMessage

    return ParsedMessage


def _parse_blocks(message: ParsedMessage[Any], output_format: Any) -> None:
    from ...lib._parse import parse_text_blocks

    parse_text_blocks(message.content, output_format)


class ParseMixin:
    """``parse`` for :class:`~claude_web.resources.Messages`."""

    _client: Any

    def parse(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        output_format: type[ResponseFormatT] | None | NotGiven = NOT_GIVEN,
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        stream: Literal[False] | NotGiven = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> ParsedMessage[ResponseFormatT]:
        """Send a Messages request and validate the answer's text as ``output_format``."""
        timeout = self._client._nonstreaming_guard(max_tokens, model, timeout)
        params = {
            "max_tokens": max_tokens,
            "messages": messages,
            "model": model,
            "cache_control": cache_control,
            "container": container,
            "inference_geo": inference_geo,
            "metadata": metadata,
            "output_config": output_config,
            "service_tier": service_tier,
            "stop_sequences": stop_sequences,
            "system": system,
            "temperature": temperature,
            "thinking": thinking,
            "tool_choice": tool_choice,
            "tools": tools,
            "top_k": top_k,
            "top_p": top_p,
            "user_profile_id": user_profile_id,
        }
        options = parse_options(
            params,
            output_format,
            stream,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        message: ParsedMessage[ResponseFormatT] = self._client.request(_parsed_message_type(), options)
        _parse_blocks(message, output_format)
        return message


class AsyncParseMixin:
    """``parse`` for :class:`~claude_web.resources.AsyncMessages`."""

    _client: Any

    async def parse(
        self,
        *,
        max_tokens: int,
        messages: Iterable[Any],
        model: str,
        output_format: type[ResponseFormatT] | None | NotGiven = NOT_GIVEN,
        cache_control: Any = NOT_GIVEN,
        container: Any = NOT_GIVEN,
        inference_geo: Any = NOT_GIVEN,
        metadata: Any = NOT_GIVEN,
        output_config: Any = NOT_GIVEN,
        service_tier: Any = NOT_GIVEN,
        stop_sequences: Any = NOT_GIVEN,
        stream: Literal[False] | NotGiven = NOT_GIVEN,
        system: Any = NOT_GIVEN,
        temperature: Any = NOT_GIVEN,
        thinking: Any = NOT_GIVEN,
        tool_choice: Any = NOT_GIVEN,
        tools: Any = NOT_GIVEN,
        top_k: Any = NOT_GIVEN,
        top_p: Any = NOT_GIVEN,
        user_profile_id: Any = NOT_GIVEN,
        extra_headers: Headers | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        timeout: float | httpx.Timeout | None | NotGiven = NOT_GIVEN,
    ) -> ParsedMessage[ResponseFormatT]:
        """Send a Messages request and validate the answer's text as ``output_format``."""
        timeout = self._client._nonstreaming_guard(max_tokens, model, timeout)
        params = {
            "max_tokens": max_tokens,
            "messages": messages,
            "model": model,
            "cache_control": cache_control,
            "container": container,
            "inference_geo": inference_geo,
            "metadata": metadata,
            "output_config": output_config,
            "service_tier": service_tier,
            "stop_sequences": stop_sequences,
            "system": system,
            "temperature": temperature,
            "thinking": thinking,
            "tool_choice": tool_choice,
            "tools": tools,
            "top_k": top_k,
            "top_p": top_p,
            "user_profile_id": user_profile_id,
        }
        options = parse_options(
            params,
            output_format,
            stream,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
        )
        message: ParsedMessage[ResponseFormatT] = await self._client.request(_parsed_message_type(), options)
        _parse_blocks(message, output_format)
        return message
