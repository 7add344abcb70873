"""Django test setup for ``tests/django`` only: the small project in ``cw_testproject`` and shared fixtures.

Django is configured here (not in a global ini option), so the other test directories never see it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
SETTINGS_MODULE = "cw_testproject.settings"


def pytest_configure(config: pytest.Config) -> None:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import django
    from django.conf import settings

    if not settings.configured and "DJANGO_SETTINGS_MODULE" not in os.environ:
        os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
        django.setup()
    elif "claude_web_django" not in settings.INSTALLED_APPS or settings.ROOT_URLCONF != "cw_testproject.urls":
        _layer_over_foreign_settings()
    else:
        django.setup()


def _layer_over_foreign_settings() -> None:
    """Another test directory configured Django first (one process runs every directory): put this project's
    settings over it for the rest of the session, with the app registry and the database handler rebuilt."""
    import importlib

    import django
    from asgiref.local import Local
    from django.apps import apps
    from django.db import connections
    from django.test.utils import override_settings

    if not apps.ready:
        django.setup()
    project = importlib.import_module(SETTINGS_MODULE)
    values = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    override_settings(**values).enable()
    # forget the DATABASES of the earlier configuration and any connection made with them
    for conn in connections.all(initialized_only=True):
        conn.close()
    connections.__dict__.pop("settings", None)
    connections._settings = None
    connections._connections = Local(connections.thread_critical)


@pytest.fixture
def claude_web_settings(settings: Any, fake_claude: Any) -> Callable[..., dict[str, Any]]:
    """Point ``CLAUDE_WEB`` at this test's FakeClaude; call it again with sections to change more."""
    from cwdj_helpers import claude_web_value

    def apply(**sections: Any) -> dict[str, Any]:
        value = claude_web_value(fake_claude.base_url, **sections)
        settings.CLAUDE_WEB = value
        return value

    apply()
    return apply


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    """Clean caches and clients around every test (quota counters live in the local-memory cache)."""
    from django.core.cache import cache

    from claude_web_django import clients, conf
    from claude_web_django.receivers import wait_for_usage_writes

    cache.clear()
    conf.reset()
    clients.close_clients()
    yield
    wait_for_usage_writes(10.0)
    cache.clear()
    clients.close_clients()
    conf.reset()


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="alice", password="pw")


@pytest.fixture
def auth_client(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client
