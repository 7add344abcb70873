"""A project's own model keeping usage next to its rows: the abstract model and the reusable fields."""

from __future__ import annotations

from django.db import models

from claude_web_django.fields import CostField, TokenCountField, UsageField
from claude_web_django.models import AbstractTokenUsage


class Conversation(models.Model):
    title = models.CharField(max_length=100)


class TurnUsage(AbstractTokenUsage):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="usage")


class Turn(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    usage = UsageField(null=True, blank=True)
    output_tokens = TokenCountField()
    cost = CostField(null=True, blank=True)
