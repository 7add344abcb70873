"""The demo's Celery app, used when ``DEMO_REDIS_URL`` is set (the long-task page's jobs and every conversation
answer then run here, with the site's models and tools).

Worker: ``cd example_project && DEMO_REDIS_URL=redis://127.0.0.1:6379/0 celery -A demo_site.celery worker``
(``run_demo.py --redis-url ...`` starts one for you).
"""

from __future__ import annotations

import os

import django
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
django.setup()  # the worker stores usage rows through the Django app

from django.conf import settings  # noqa: E402

from claude_web_django.jobs import register_tasks  # noqa: E402

app = Celery("demo_site")
app.conf.update(
    broker_url=settings.DEMO_REDIS_URL or "redis://127.0.0.1:6379/0",
    broker_connection_retry_on_startup=True,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
)
register_tasks(app)  # CLAUDE_WEB["JOBS"], the app's clients, ledger and conversations, read in the worker
