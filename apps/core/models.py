from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    """Adds ``created_at`` and ``updated_at``, kept by the database layer on every save."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key: claimed by a unique insert, answered from the stored response."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    locked_until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_key_per_user")]
        indexes = [models.Index(fields=["created_at"], name="core_idempotency_created")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


def is_referenced(instance: models.Model) -> bool:
    """True when a row that must keep pointing at ``instance`` exists: any model referencing its
    model with on_delete=PROTECT or RESTRICT counts, so a new such foreign key (an order line of a
    product or variant) extends the check with no change where it is asked."""
    for relation in instance._meta.related_objects:
        if relation.on_delete in (models.PROTECT, models.RESTRICT):
            manager = relation.related_model._base_manager
            if manager.filter(**{relation.field.name: instance}).exists():
                return True
    return False
