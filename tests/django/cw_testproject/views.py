"""Views of the test project that use the per-request clients of the middleware."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def plain_create(request: Any) -> JsonResponse:
    message = request.claude.messages.create(
        model="claude-haiku-4-5", max_tokens=32, messages=[{"role": "user", "content": "Hi"}]
    )
    return JsonResponse({"text": message.content[0].text})


async def aplain_create(request: Any) -> JsonResponse:
    await request.auser()
    message = await request.aclaude.messages.create(
        model="claude-haiku-4-5", max_tokens=32, messages=[{"role": "user", "content": "Hi"}]
    )
    return JsonResponse({"text": message.content[0].text})
