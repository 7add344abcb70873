"""The overshoot test's Flask app: ``python -m budget_apps.flask_app PORT`` serves it with werkzeug's threaded WSGI
server; ``python -m budget_apps.flask_app init`` creates its tables. Usage and budget tables in PostgreSQL
(``CWB_DB``), budgets per ``CWB_QUOTAS`` (JSON), FakeClaude at ``CWB_FAKE``."""

from __future__ import annotations

import json
import logging
import os
import sys

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from werkzeug.serving import make_server

from claude_web_flask import ClaudeWeb, chat_blueprint
from claude_web_flask.budgets import budget_tables
from claude_web_flask.usage import usage_table

quotas = json.loads(os.environ["CWB_QUOTAS"])
app = Flask("budget_overshoot")
app.debug = False
app.testing = True  # the fake backend
app.config.update(
    SQLALCHEMY_DATABASE_URI=os.environ["CWB_DB"].replace("postgresql://", "postgresql+psycopg://", 1),
    SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 5, "max_overflow": 5, "pool_timeout": 60},
    CLAUDE_WEB_CLIENTS={
        "default": {"BACKEND": "fake", "OPTIONS": {"base_url": os.environ["CWB_FAKE"], "max_retries": 0}}
    },
    CLAUDE_WEB_CHAT_MODELS=["claude-haiku-4-5"],
    CLAUDE_WEB_CHAT_LOGIN_REQUIRED=False,
    CLAUDE_WEB_USAGE_STORAGE="sqlalchemy",
    CLAUDE_WEB_USAGE_CREATE_TABLE=False,
    CLAUDE_WEB_QUOTA_STORE=quotas.pop("STORE"),
    CLAUDE_WEB_QUOTA_REDIS_URL=quotas.pop("REDIS_URL", None),
    CLAUDE_WEB_QUOTAS=quotas,
)
db = SQLAlchemy(app)
ClaudeWeb(app)
app.register_blueprint(chat_blueprint, url_prefix="/claude")

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if sys.argv[1] == "init":
        usage_table(db.metadata, "claude_web_usage")
        budget_tables(db.metadata)
        with app.app_context():
            db.create_all()
        sys.exit(0)
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    server.serve_forever()
