"""Run FakeClaude as a standalone server: ``python -m claude_web.testing --host 127.0.0.1 --port 0``.

Prints exactly one line, ``FakeClaude listening on http://HOST:PORT``, then serves until SIGTERM or SIGINT.
Other processes script it through the control API (``FakeClaude.connect(url)``).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from ._fake import FakeClaude


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m claude_web.testing", description="Run a fake Anthropic Messages API server."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default 0: a free port)")
    parser.add_argument(
        "--batch-polls-until-end",
        type=int,
        default=None,
        help="retrieves a message batch needs before it ends (default 1)",
    )
    parser.add_argument(
        "--event-delay",
        type=float,
        default=0.0,
        help="seconds between the events of unscripted streamed replies (default 0)",
    )
    parser.add_argument(
        "--cache-min-tokens",
        type=int,
        default=None,
        help="minimum cacheable prompt length for every model (default: the documented one per model)",
    )
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake = FakeClaude(args.host, args.port, cache_min_tokens=args.cache_min_tokens).start()
    fake.default_event_delay = args.event_delay
    if args.batch_polls_until_end is not None:
        fake.batch_polls_until_end = args.batch_polls_until_end
    try:
        print(f"FakeClaude listening on {fake.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
