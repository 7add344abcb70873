"""claude-web for Flask: ``ClaudeWeb(app)`` / ``init_app``, per-request clients, streamed answers, usage, quotas.

>>> from flask import Flask, request
>>> from claude_web_flask import ClaudeWeb, chat_blueprint, usage_recorded
>>> app = Flask(__name__)
>>> app.config["CLAUDE_WEB_CLIENTS"] = {"default": {"BACKEND": "anthropic", "OPTIONS": {"api_key": "sk-..."}}}
>>> claude = ClaudeWeb(app)
>>> app.register_blueprint(chat_blueprint, url_prefix="/claude")      # POST /claude/chat -> SSE
>>> @app.post("/summarize")
... def summarize():
...     return claude.stream_response(model="claude-haiku-4-5", max_tokens=512,
...                                   messages=[{"role": "user", "content": request.json["text"]}])

Settings: :mod:`claude_web_flask.config`. CLI: ``flask claude ping | usage | chat``.
"""

from .blueprint import chat_blueprint, create_chat_blueprint
from .config import DEFAULTS, ConfigError
from .extension import ClaudeWeb, QuotaUnavailable, chat_error_response, get_runtime, get_state, quota_response
from .signals import budget_threshold_crossed, quota_exceeded, usage_recorded

Claude = ClaudeWeb

__all__ = [
    "DEFAULTS",
    "budget_threshold_crossed",
    "Claude",
    "ClaudeWeb",
    "ConfigError",
    "QuotaUnavailable",
    "chat_blueprint",
    "chat_error_response",
    "create_chat_blueprint",
    "get_runtime",
    "get_state",
    "quota_exceeded",
    "quota_response",
    "usage_recorded",
]
