"""URLconf for the Django view tests: the jobs views under ``/ai/jobs/``."""

from django.urls import include, path

urlpatterns = [path("ai/jobs/", include("claude_web_django.jobs"))]
