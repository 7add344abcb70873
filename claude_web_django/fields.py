"""Model fields for keeping Claude usage in your own models.

>>> from django.db import models
>>> from claude_web_django.fields import CostField, TokenCountField, UsageField
>>> class Turn(models.Model):
...     usage = UsageField(null=True)          # stores and returns a claude_web.types.Usage
...     output_tokens = TokenCountField()      # non-negative big integer, default 0
...     cost = CostField(null=True)            # Decimal USD, 8 decimal places; null = unknown price
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models

from claude_web.types import Usage

__all__ = ["COST_DECIMAL_PLACES", "COST_MAX_DIGITS", "CostField", "TokenCountField", "UsageField"]

COST_MAX_DIGITS = 20
COST_DECIMAL_PLACES = 8


if TYPE_CHECKING:  # django-stubs' fields are generic; Django's own classes are not subscriptable
    _TokenBase = models.PositiveBigIntegerField[int, int]
    _CostBase = models.DecimalField[Decimal | None, Decimal | None]
else:
    _TokenBase = models.PositiveBigIntegerField
    _CostBase = models.DecimalField


class TokenCountField(_TokenBase):
    """A token count: a non-negative 64-bit integer that defaults to 0."""

    description = "Token count"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", 0)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("default") == 0:
            kwargs.pop("default")
        return name, path, args, kwargs


class CostField(_CostBase):
    """A cost in USD as a ``Decimal`` with 8 decimal places (the precision of :func:`claude_web.usage.compute_cost`).

    Use ``null=True`` so an unknown price stays unknown instead of becoming 0.
    """

    description = "Cost in USD"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", COST_MAX_DIGITS)
        kwargs.setdefault("decimal_places", COST_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_digits") == COST_MAX_DIGITS:
            kwargs.pop("max_digits")
        if kwargs.get("decimal_places") == COST_DECIMAL_PLACES:
            kwargs.pop("decimal_places")
        return name, path, args, kwargs

    def to_python(self, value: Any) -> Decimal | None:
        result = super().to_python(value)
        return result if result is None else Decimal(result)


class UsageField(models.JSONField):
    """Stores a :class:`claude_web.types.Usage` (or a dict of one) as JSON and gives back a ``Usage``.

    Unknown keys the API adds later are kept (``Usage`` allows extra fields).
    """

    description = "Claude token usage"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        data = super().from_db_value(value, expression, connection)
        if isinstance(data, Mapping):
            return self._to_usage(data)
        return data  # key lookups (``usage__input_tokens``) give plain values

    def to_python(self, value: Any) -> Usage | None:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValidationError(f"not valid JSON: {exc}", code="invalid") from exc
        return self._to_usage(value)

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(self._to_plain(value))

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        return super().get_db_prep_value(self._to_plain(value), connection, prepared)

    def validate(self, value: Any, model_instance: Any) -> None:
        super().validate(self._to_plain(value), model_instance)

    def value_to_string(self, obj: Any) -> Any:
        return self._to_plain(self.value_from_object(obj))

    @staticmethod
    def _to_plain(value: Any) -> Any:
        if isinstance(value, Usage):
            return value.to_dict(mode="json")
        return value

    def _to_usage(self, value: Any) -> Usage | None:
        if value is None or isinstance(value, Usage):
            return value
        if isinstance(value, Mapping):
            try:
                return Usage.model_validate(dict(value))
            except ValueError as exc:
                raise ValidationError(f"not a valid usage object: {exc}", code="invalid") from exc
        raise ValidationError(f"a usage must be an object, not {type(value).__name__}", code="invalid")
