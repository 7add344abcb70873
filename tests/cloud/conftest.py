"""Fixtures for the Bedrock and Vertex tests: a FakeClaude behind FakeBedrock / FakeVertex, and an environment
in which neither the machine's AWS/Google configuration nor any network credential provider can interfere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_web.testing import FakeClaude
from claude_web.testing._cloud import FakeBedrock, FakeVertex

AWS_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_BEARER_TOKEN_BEDROCK",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CREDENTIAL_PROCESS",
)
GOOGLE_VARS = (
    "CLOUD_ML_REGION",
    "ANTHROPIC_VERTEX_PROJECT_ID",
    "ANTHROPIC_VERTEX_BASE_URL",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
)


@pytest.fixture(autouse=True)
def isolated_cloud_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Empty AWS config files, no AWS/Google env vars, no instance metadata lookups, and google.auth.default()
    failing unless a test patches it: nothing here may reach the network or the machine's credentials."""
    for name in AWS_VARS + GOOGLE_VARS:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "aws-config"
    shared = tmp_path / "aws-credentials"
    config.write_text("")
    shared.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")

    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    def no_default(*args: Any, **kwargs: Any) -> Any:
        raise DefaultCredentialsError("no Application Default Credentials in tests")

    monkeypatch.setattr(google.auth, "default", no_default)


@pytest.fixture
def fake() -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        yield server


@pytest.fixture
def bedrock(fake: FakeClaude) -> Iterator[FakeBedrock]:
    with FakeBedrock(fake) as server:
        yield server


@pytest.fixture
def vertex(fake: FakeClaude) -> Iterator[FakeVertex]:
    with FakeVertex(fake, tokens={"vertex-token"}, project="test-project", region="us-east5") as server:
        yield server
