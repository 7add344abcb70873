"""Random ids for jobs and conversations."""

from __future__ import annotations

import secrets

__all__ = ["random_id"]


def random_id(nbytes: int) -> str:
    """``nbytes`` random bytes as URL-safe base64 (:func:`secrets.token_urlsafe`), never starting with ``-``: ids
    are typed after options on command lines (``claude_conversations --id <id>``), where argparse would take
    ``-abc`` for an option. One character in 64 starts with ``-``; such a draw is simply drawn again."""
    while True:
        token = secrets.token_urlsafe(nbytes)
        if token[0] != "-":
            return token
