"""A Flask web process for the two-web-processes test: ``python cw_web_app.py PORT``.

Configured like a project would be: ``CLAUDE_WEB_JOBS`` with the Redis URL, the Celery app by dotted path and an
``OWNER`` callable (here: the ``X-User`` header, standing in for a login).
"""

from __future__ import annotations

import os
import sys

from flask import Flask, request

from claude_web_flask.jobs import jobs_blueprint

REDIS_URL = os.environ["CW_TEST_REDIS_URL"]
PREFIX = os.environ["CW_TEST_PREFIX"]


def owner() -> str | None:
    return request.headers.get("X-User")


app = Flask(__name__)
app.config["CLAUDE_WEB_JOBS"] = {
    "REDIS_URL": REDIS_URL,
    "KEY_PREFIX": PREFIX,
    "CELERY_APP": "cw_worker_app:app",
    "OWNER": owner,
    "HEARTBEAT": 1.0,
}
app.register_blueprint(jobs_blueprint, url_prefix="/ai/jobs")

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
