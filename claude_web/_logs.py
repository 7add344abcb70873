"""``ANTHROPIC_LOG=debug|info`` through stdlib logging, with secrets redacted.

Only :func:`redact_headers` output is ever logged for headers, so an API key or bearer token never reaches a
log record.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

logger = logging.getLogger("claude_web")
httpx_logger = logging.getLogger("httpx")

SENSITIVE_HEADERS = frozenset(
    {"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie", "x-amz-security-token"}
)
REDACTED = "<redacted>"

_configured = False


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with every credential-bearing value replaced by ``<redacted>``."""
    return {k: (REDACTED if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


def setup_logging() -> None:
    """Apply ``ANTHROPIC_LOG`` once per process (``debug`` or ``info``; anything else leaves logging alone)."""
    global _configured
    if _configured:
        return
    _configured = True
    level_name = os.environ.get("ANTHROPIC_LOG", "").strip().lower()
    level = {"debug": logging.DEBUG, "info": logging.INFO}.get(level_name)
    if level is None:
        return
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s - %(name)s:%(lineno)d - %(levelname)s] %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    httpx_logger.setLevel(level)
    if not httpx_logger.handlers:
        httpx_logger.addHandler(logger.handlers[0])
