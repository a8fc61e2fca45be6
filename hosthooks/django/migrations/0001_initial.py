"""The outbox of deferred calls: its table, hosthooks_outbox."""

from typing import Any
from typing import ClassVar

from django.db import migrations
from django.db import models


class Migration(migrations.Migration):  # type: ignore[misc]
    initial = True

    dependencies: ClassVar[list[Any]] = []

    operations: ClassVar[list[Any]] = [
        migrations.CreateModel(
            name="DeferredCall",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("event_id", models.CharField(max_length=32, unique=True)),
                ("hook", models.CharField(max_length=100)),
                ("plugin", models.CharField(max_length=200)),
                ("queue", models.CharField(max_length=200)),
                ("state", models.CharField(max_length=10)),
                ("attempts", models.IntegerField()),
                ("retries", models.IntegerField()),
                ("relayed", models.IntegerField()),
                ("next_attempt_at", models.FloatField(db_index=True, null=True)),
                ("held_since", models.FloatField(null=True)),
                ("last_error", models.TextField(null=True)),
                ("created_at", models.FloatField()),
                ("updated_at", models.FloatField()),
                ("message", models.TextField()),
                ("traceparent", models.CharField(max_length=55, null=True)),
            ],
            options={
                "db_table": "hosthooks_outbox",
                "indexes": [
                    models.Index(
                        fields=["updated_at"],
                        name="hosthooks_outbox_done",
                        condition=models.Q(state="done"),
                    )
                ],
            },
        ),
    ]
