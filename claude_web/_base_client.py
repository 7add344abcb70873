"""The client machinery under one name: ``BaseClient`` (no I/O, :mod:`._base_core`), ``SyncAPIClient``
(:mod:`._base_sync`), ``AsyncAPIClient`` (:mod:`._base_async`), and what a call is made of
(:mod:`._request_options`). Resources and platform clients import from here."""

from __future__ import annotations

from ._base_async import AsyncAPIClient
from ._base_core import BaseClient
from ._base_sync import SyncAPIClient
from ._request_options import (
    RESPONSE_MODE_HEADER,
    DefaultAsyncHttpxClient,
    DefaultHttpxClient,
    FinalRequestOptions,
    make_request_options,
    strip_not_given,
)

__all__ = [
    "RESPONSE_MODE_HEADER",
    "AsyncAPIClient",
    "BaseClient",
    "DefaultAsyncHttpxClient",
    "DefaultHttpxClient",
    "FinalRequestOptions",
    "SyncAPIClient",
    "make_request_options",
    "strip_not_given",
]
