import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import claude_web_django.fields


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TokenUsage",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(db_index=True, verbose_name="created at")),
                ("record_id", models.CharField(editable=False, max_length=32, unique=True, verbose_name="record id")),
                ("operation", models.CharField(max_length=64, verbose_name="operation")),
                ("model", models.CharField(blank=True, db_index=True, max_length=128, verbose_name="model")),
                ("backend", models.CharField(blank=True, max_length=32, verbose_name="backend")),
                ("alias", models.CharField(blank=True, max_length=64, verbose_name="client alias")),
                (
                    "status",
                    models.CharField(
                        choices=[("ok", "ok"), ("error", "error"), ("aborted", "aborted")],
                        db_index=True,
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("input_tokens", claude_web_django.fields.TokenCountField(verbose_name="input tokens")),
                ("output_tokens", claude_web_django.fields.TokenCountField(verbose_name="output tokens")),
                (
                    "cache_creation_input_tokens",
                    claude_web_django.fields.TokenCountField(verbose_name="cache write tokens"),
                ),
                ("cache_read_input_tokens", claude_web_django.fields.TokenCountField(verbose_name="cache read tokens")),
                (
                    "cost",
                    claude_web_django.fields.CostField(
                        blank=True, help_text="Empty when the model has no price.", null=True, verbose_name="cost (USD)"
                    ),
                ),
                ("latency_ms", models.FloatField(default=0.0, verbose_name="latency (ms)")),
                (
                    "time_to_first_token_ms",
                    models.FloatField(blank=True, null=True, verbose_name="time to first token (ms)"),
                ),
                ("error_type", models.CharField(blank=True, max_length=64, verbose_name="error type")),
                ("request_id", models.CharField(blank=True, max_length=128, verbose_name="upstream request id")),
                (
                    "web_request_id",
                    models.CharField(blank=True, db_index=True, max_length=64, verbose_name="web request id"),
                ),
                ("context", models.JSONField(blank=True, default=dict, verbose_name="context")),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="%(app_label)s_%(class)s_set",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "token usage",
                "verbose_name_plural": "token usage",
                "ordering": ("-created_at",),
                "abstract": False,
                "indexes": [
                    models.Index(fields=["user", "created_at"], name="claude_web_user_created_idx"),
                    models.Index(fields=["model", "created_at"], name="claude_web_model_created_idx"),
                ],
            },
        ),
    ]
