"""Background jobs for long Claude calls: the framework-free service behind the Django views and Flask blueprint.

A *job* is one long call run away from the web request: ``create`` (a non-streaming ``messages.create``),
``stream`` (``messages.stream``, every event published to the relay as it arrives), ``batch`` (a Message
Batch, polled until it ends) or ``conversation`` (one assistant turn of a stored conversation, tool loop included;
started by :mod:`claude_web.web.conversations`, never directly by a browser). A view calls :class:`JobService`:

>>> service = JobService.from_config(JobsConfig())         # no Redis URL: in-process threads + memory relay
>>> job = service.start("stream", {"model": "claude-haiku-4-5", "max_tokens": 512,
...                                "messages": [{"role": "user", "content": "Hi"}]}, owner="user:42")
>>> for frame in service.sse(job.id, "user:42", last_event_id=None):  # an SSE body, resumable
...     ...

With ``JobsConfig(redis_url=...)`` jobs go to Celery workers (see :mod:`claude_web.celery`) and events travel
through Redis Streams (:mod:`claude_web.relay`). A job belongs to the ``owner`` that started it: every other
owner gets :class:`JobNotFound`, exactly as for an id that does not exist. Job ids are 24 random
URL-safe characters (:func:`claude_web._ids.random_id`).

Worker side, :class:`JobRunner` runs one attempt of a job: one client per process and alias (from
:class:`ClientRegistry`), ``max_retries=0`` on the upstream client so that retries happen at the job level
(honouring ``retry-after``, without holding a worker), and exactly one usage record per upstream call: every
record passes an idempotency claim keyed by job id, attempt and call number, and a call lost with its worker
(``kill -9``) is recorded as ``aborted`` by the next attempt.
"""

from ._config import ClientRegistry, JobsConfig, RetryPolicy, import_string, is_retryable, retry_delay
from ._model import (
    JOB_KINDS,
    PUBLIC_JOB_KINDS,
    TASK_NAMES,
    JobNotFound,
    JobRequestError,
    RetryJob,
    Signal,
    TurnJob,
    TurnRunnerProtocol,
    batch_completed,
    job_finished,
    validate_params,
)
from ._runner import JobRunner
from ._service import CeleryExecutor, Executor, Job, JobService, ThreadExecutor

__all__ = [
    "JOB_KINDS",
    "PUBLIC_JOB_KINDS",
    "TASK_NAMES",
    "CeleryExecutor",
    "ClientRegistry",
    "Executor",
    "Job",
    "JobNotFound",
    "JobRequestError",
    "JobRunner",
    "JobService",
    "JobsConfig",
    "RetryJob",
    "RetryPolicy",
    "Signal",
    "ThreadExecutor",
    "TurnJob",
    "TurnRunnerProtocol",
    "batch_completed",
    "import_string",
    "is_retryable",
    "job_finished",
    "retry_delay",
    "validate_params",
]
