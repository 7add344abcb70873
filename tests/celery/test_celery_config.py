"""Configuration: settings mappings, environment variables, task registration, the missing-extra error."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from claude_web.jobs import ClientRegistry, JobRequestError, JobsConfig, JobService, RetryPolicy, retry_delay


def test_from_mapping_reads_known_keys_and_refuses_unknown_ones() -> None:
    config = JobsConfig.from_mapping(
        {"REDIS_URL": "redis://h:1/2", "KEY_PREFIX": "p", "MAX_RETRIES": 2, "ALIASES": ["default", "fast"]}
    )
    assert (config.redis_url, config.key_prefix, config.max_retries, config.aliases) == (
        "redis://h:1/2",
        "p",
        2,
        ("default", "fast"),
    )
    with pytest.raises(ValueError, match="REDIS_ULR"):
        JobsConfig.from_mapping({"REDIS_ULR": "typo"})


def test_from_env() -> None:
    config = JobsConfig.from_env(
        {
            "CLAUDE_WEB_REDIS_URL": "redis://x/1",
            "CLAUDE_WEB_MAX_RETRIES": "7",
            "CLAUDE_WEB_BATCH_POLL_INTERVAL": "2.5",
            "CLAUDE_WEB_ALIASES": "a, b",
        }
    )
    assert (config.redis_url, config.max_retries, config.batch_poll_interval, config.aliases) == (
        "redis://x/1",
        7,
        2.5,
        ("a", "b"),
    )
    assert "redis://x/1" not in repr(config)


def test_clients_from_the_environment_keep_the_key_out_of_reprs() -> None:
    env = {
        "CLAUDE_WEB_CLIENTS": '{"default": {"base_url": "http://127.0.0.1:9", "api_key_env": "K"}}',
        "K": "sk-ant-secret-value",
    }
    clients = ClientRegistry(environ=env)
    client = clients.get("default")
    assert client.api_key == "sk-ant-secret-value"
    assert str(client.base_url).rstrip("/") == "http://127.0.0.1:9"
    assert "sk-ant-secret-value" not in repr(client) + repr(clients)
    assert clients.get("default") is client  # one per process and alias
    with pytest.raises(JobRequestError):
        clients.validate("fast")
    with pytest.raises(ValueError, match="unknown option"):
        ClientRegistry(environ={"CLAUDE_WEB_CLIENTS": '{"default": {"apikey": "x"}}'}).get("default")


def test_retry_delay_prefers_retry_after_then_backs_off() -> None:
    import httpx

    from claude_web import OverloadedError, RateLimitError

    def make(cls: Any, status: int, headers: dict[str, str]) -> Any:
        request = httpx.Request("POST", "http://x/v1/messages")
        return cls("boom", response=httpx.Response(status, headers=headers, request=request), body=None)

    policy = RetryPolicy(backoff=1.0, backoff_max=8.0, max_retries=3)
    assert retry_delay(make(OverloadedError, 529, {"retry-after-ms": "1500"}), 0, policy) == 1.5
    assert retry_delay(make(RateLimitError, 429, {"retry-after": "3"}), 0, policy) == 3.0
    assert 3.0 <= retry_delay(make(OverloadedError, 529, {}), 2, policy) <= 4.0
    assert retry_delay(make(OverloadedError, 529, {}), 10, policy) <= 8.0
    assert policy.delay(make(OverloadedError, 529, {}), 3) is None  # budget spent
    assert policy.delay(make(OverloadedError, 529, {"x-should-retry": "false"}), 0) is None


def test_register_tasks_names_and_options() -> None:
    from celery import Celery

    from claude_web.celery import TASK_NAMES, register_tasks

    app = Celery("cfg-test", set_as_current=False)
    tasks = register_tasks(app, config=JobsConfig(redis_url="redis://127.0.0.1:6379/15"))
    other = Celery("cfg-test-other", set_as_current=False)
    assert "claude_web.create_message" not in other.tasks  # registered on `app` only
    assert {t.name for t in tasks.values()} == set(TASK_NAMES.values())
    for task in tasks.values():
        assert task.acks_late is True and task.reject_on_worker_lost is True
        assert app.tasks[task.name].name == task.name


def test_register_shared_tasks_reaches_apps_created_later() -> None:
    from celery import Celery

    from claude_web.celery import register_shared_tasks

    register_shared_tasks(JobsConfig(redis_url="redis://127.0.0.1:6379/15"))
    app = Celery("shared-test", set_as_current=False)
    app.finalize()
    assert "claude_web.stream_message" in app.tasks


def test_a_missing_celery_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from claude_web import celery as tasks_module

    monkeypatch.setitem(sys.modules, "celery", None)
    with pytest.raises(ImportError, match=r'pip install "claude-web\[celery\]"'):
        tasks_module.register_tasks(object())


def test_django_service_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("django")
    from django.conf import settings

    if not settings.configured:
        settings.configure(SECRET_KEY="x", INSTALLED_APPS=[], USE_TZ=True)
    from django.test import override_settings

    from claude_web_django import jobs

    with override_settings(CLAUDE_WEB={"JOBS": {"THREADS": 2}}):
        service = jobs.get_job_service()
        assert service.mode == "in-process" and jobs.get_job_service() is service
    with override_settings(CLAUDE_WEB={"JOBS": {"REDIS_URL": "redis://127.0.0.1:6379/15", "KEY_PREFIX": "cfg"}}):
        assert jobs.get_job_service().mode == "celery"
    with override_settings(CLAUDE_WEB={"JOBS": {"REDIS": "x"}}), pytest.raises(ValueError, match="CLAUDE_WEB"):
        jobs.get_job_service()
    jobs.set_job_service(None)


def test_flask_service_comes_from_app_config() -> None:
    from flask import Flask

    from claude_web_flask.jobs import get_job_service

    app = Flask(__name__)
    app.config["CLAUDE_WEB_JOBS"] = {"THREADS": 1}
    with app.app_context():
        service = get_job_service()
        assert isinstance(service, JobService) and service.mode == "in-process"
        assert get_job_service() is service
    service.close()
