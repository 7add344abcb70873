"""One live server for the adapter parity test: ``python parity_server.py KIND``.

``KIND`` is ``django-asgi`` (Django under uvicorn), ``django-wsgi`` (Django under werkzeug's threaded WSGI server)
or ``flask`` (Flask under the same WSGI server). Every kind reads the SAME logical settings: the JSON of a nested
``CLAUDE_WEB`` value in ``PARITY_CLAUDE_WEB`` (Django uses it as is, Flask through the flat ``CLAUDE_WEB_*`` keys of
:func:`flask_config`), the body limit in ``PARITY_BODY_LIMIT`` and a SQLite file in ``PARITY_DB``. With
``PARITY_PREFIX`` (and ``JOBS["REDIS_URL"]`` in the settings) jobs run on Celery: the server registers the tasks
through its adapter and runs a worker in a thread, on its own Redis key prefix and queue.

Each app mounts claude-web at the same prefix (``/claude/``, jobs at ``/claude/jobs/``, conversations at
``/claude/conversations/``, with tools from ``parity_tools``) and adds what a site adds
around it: a login (``POST /accounts/login/`` with a username and password; users from :data:`USERS`, same ids
everywhere) and ``GET /parity/rows/``, the usage rows the app stored (Django: ``TokenUsage`` through the ORM;
Flask: its SQLAlchemy usage table). The server prints ``PORT <n>`` on its first line once it is bound.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

USERS = {"alice": 1, "mallory": 2, "carol": 3}
"""Username -> user id, the same on every server (Django creates them with these primary keys)."""
PASSWORD = "parity-pass-123"
WHOLE_SECTIONS = ("CLIENTS", "QUOTAS", "PRICING", "JOBS", "ASSISTANTS", "CONVERSATIONS")
"""The sections Flask takes as one dict (``CLAUDE_WEB_JOBS = {...}``); the others are one key per setting."""


def flask_config(claude_web: Mapping[str, Any]) -> dict[str, Any]:
    """The Flask ``app.config`` keys of a nested ``CLAUDE_WEB`` value, spelled as the Flask docs spell them."""
    from claude_web_flask.config import flat_name

    out: dict[str, Any] = {}
    for section, value in claude_web.items():
        if section in WHOLE_SECTIONS:
            out[f"CLAUDE_WEB_{section}"] = value
        elif isinstance(value, Mapping):
            out.update({flat_name(section, key): item for key, item in value.items()})
        else:
            out[f"CLAUDE_WEB_{section}"] = value
    return out


def _row(values: Mapping[str, Any], context: Any, user: Any) -> dict[str, Any]:
    names = ("operation", "model", "status", "input_tokens", "output_tokens", "cache_creation_input_tokens")
    out = {name: values[name] for name in (*names, "cache_read_input_tokens", "estimated")}
    cost = values["cost"]
    out["cost"] = None if cost is None else str(Decimal(cost))
    out["user"] = None if user is None else str(user)
    out["context"] = context or {}
    return out


# -- Django ------------------------------------------------------------------------------------------------------


def configure_django(claude_web: Mapping[str, Any], db_path: str, body_limit: int) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="claude-web-parity",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "claude_web_django",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        ROOT_URLCONF="parity_django_urls",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": db_path}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        DATA_UPLOAD_MAX_MEMORY_SIZE=body_limit,
        CLAUDE_WEB=dict(claude_web),
        SILENCED_SYSTEM_CHECKS=["claude_web.W001"],
        LOGGING={"version": 1, "disable_existing_loggers": False},
    )
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    model = get_user_model()
    for name, pk in USERS.items():
        model.objects.create_user(id=pk, username=name, password=PASSWORD)


def django_rows() -> list[dict[str, Any]]:
    """The ``TokenUsage`` rows, oldest first (after pending writes from event-loop threads are done)."""
    from claude_web_django.models import TokenUsage
    from claude_web_django.receivers import wait_for_usage_writes

    wait_for_usage_writes(10.0)
    return [_row(vars(row), row.context, row.user_id) for row in TokenUsage.objects.order_by("created_at", "id")]


# -- Flask -------------------------------------------------------------------------------------------------------


def make_flask_app(claude_web: Mapping[str, Any], db_path: str, body_limit: int) -> Any:
    from flask import Flask, jsonify, request, session
    from flask_sqlalchemy import SQLAlchemy

    from claude_web_flask import ClaudeWeb, chat_blueprint, get_state
    from claude_web_flask.conversations import conversations_blueprint
    from claude_web_flask.jobs import jobs_blueprint

    def current_user() -> int | None:
        uid = session.get("uid")
        return uid if isinstance(uid, int) else None

    app = Flask("parity")
    app.testing = True  # the 'fake' backend outside debug: Django's twin is SILENCED_SYSTEM_CHECKS W001
    app.config.update(
        SECRET_KEY="claude-web-parity",
        MAX_CONTENT_LENGTH=body_limit,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}",
        CLAUDE_WEB_USAGE_STORAGE="sqlalchemy",
        CLAUDE_WEB_USER_LOADER=current_user,
        **flask_config(claude_web),
    )
    db = SQLAlchemy()
    db.init_app(app)
    ClaudeWeb(app)
    app.register_blueprint(chat_blueprint, url_prefix="/claude")
    app.register_blueprint(jobs_blueprint, url_prefix="/claude/jobs")
    app.register_blueprint(conversations_blueprint, url_prefix="/claude/conversations")

    @app.route("/accounts/login/", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "GET":
            return jsonify({})
        name = request.form.get("username", "")
        if name not in USERS or request.form.get("password") != PASSWORD:
            return jsonify({"error": "bad login"}), 403
        session["uid"] = USERS[name]
        return jsonify({"user_id": USERS[name]})

    @app.get("/parity/rows/")
    def rows() -> Any:
        stored = get_state().usage_store.rows()
        return jsonify([_row(row, row["context"], row["user_id"]) for row in stored])

    return app


# -- Celery (the Redis run) --------------------------------------------------------------------------------------


def celery_app(claude_web: dict[str, Any], prefix: str) -> Any:
    """A Celery app on the Redis URL of ``JOBS``, with this server's own key prefix and queue (servers sharing a
    queue would run each other's jobs, and write the usage into each other's ledgers); ``JOBS`` gets them."""
    from celery import Celery

    url = claude_web["JOBS"]["REDIS_URL"]
    app = Celery(f"parity-{prefix}", broker=url, set_as_current=False)
    app.conf.update(
        task_default_queue=f"{prefix}-queue",
        broker_transport_options={"global_keyprefix": f"{prefix}:broker:"},
        broker_connection_retry_on_startup=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        task_ignore_result=True,
    )
    claude_web["JOBS"].update({"KEY_PREFIX": prefix, "QUEUE": f"{prefix}-queue", "CELERY_APP": app})
    return app


_WORKERS: list[Any] = []


def start_worker(app: Any) -> None:
    """A Celery worker in a thread of this process (it lives as long as the server does)."""
    from celery.contrib.testing.worker import start_worker as worker

    running = worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING")
    running.__enter__()
    _WORKERS.append(running)  # a context manager that is garbage collected stops its worker


# -- serving -----------------------------------------------------------------------------------------------------


def _announce(port: int) -> None:
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()


def serve_wsgi(app: Any) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    _announce(server.server_port)
    server.serve_forever()


def serve_asgi(app: Any) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    _announce(sock.getsockname()[1])
    config = uvicorn.Config(app, lifespan="off", log_level="warning", loop="asyncio")
    uvicorn.Server(config).run(sockets=[sock])


def main(kind: str) -> None:
    claude_web = json.loads(os.environ["PARITY_CLAUDE_WEB"])
    db_path = os.environ["PARITY_DB"]
    limit = int(os.environ["PARITY_BODY_LIMIT"])
    prefix = os.environ.get("PARITY_PREFIX")
    celery = celery_app(claude_web, prefix) if prefix else None
    if kind == "flask":
        app = make_flask_app(claude_web, db_path, limit)
        if celery is not None:
            from claude_web_flask.jobs import register_tasks

            register_tasks(celery, app)
            start_worker(celery)
        serve_wsgi(app)
        return
    if kind not in ("django-wsgi", "django-asgi"):
        raise SystemExit(f"unknown server kind {kind!r}")
    configure_django(claude_web, db_path, limit)
    if celery is not None:
        from claude_web_django.jobs import register_tasks as register_django_tasks

        register_django_tasks(celery)
        start_worker(celery)
    if kind == "django-wsgi":
        from django.core.wsgi import get_wsgi_application

        serve_wsgi(get_wsgi_application())
    else:
        from django.core.asgi import get_asgi_application

        serve_asgi(get_asgi_application())


if __name__ == "__main__":
    main(sys.argv[1])
