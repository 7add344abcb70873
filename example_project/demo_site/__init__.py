"""The claude-web demo site (settings, URLs, ASGI/WSGI entry points).

The demo lives inside the claude-web checkout: the checkout's own packages are put first on ``sys.path`` so the
site always runs the code next to it, installed or not.
"""

from __future__ import annotations

import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]
if (_CHECKOUT / "claude_web" / "__init__.py").is_file() and str(_CHECKOUT) not in sys.path:
    sys.path.insert(0, str(_CHECKOUT))
