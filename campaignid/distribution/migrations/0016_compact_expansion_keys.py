"""The idempotency keys of rows a batch expansion created become 18-character digests (see
``models.expansion_key``). Every existing "b:<batch>:<beneficiary>:<channel>" and "h:<batch>:<household>:<channel>"
key is rewritten, so that a later fallback or retry on an old batch still finds the rows it must not create
twice. Cost: one read and one update per delivery, in chunks (docs/OPERATIONS.md, upgrades)."""

from django.db import migrations, transaction

CHUNK = 5000


def _compact(key: str) -> str | None:
    from campaignid.distribution.models import expansion_key

    parts = key.split(":")
    if parts[0] not in ("b", "h") or len(parts) < 4:
        return None  # already compact, or not an expansion's key
    return expansion_key(parts[0], *parts[1:4]) + "".join(f":{rest}" for rest in parts[4:])


def compact_keys(apps, schema_editor):
    connection = schema_editor.connection
    last = 0
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cur:
            cur.execute("SELECT id, idempotency_key FROM distribution_delivery WHERE id > %s AND "
                        "(idempotency_key LIKE 'b:%%' OR idempotency_key LIKE 'h:%%') ORDER BY id LIMIT %s",
                        [last, CHUNK])
            rows = cur.fetchall()
            if not rows:
                return
            last = rows[-1][0]
            changes = [(new, pk) for pk, key in rows if (new := _compact(key)) is not None]
            if changes:
                cur.executemany("UPDATE distribution_delivery SET idempotency_key = %s WHERE id = %s", changes)


class Migration(migrations.Migration):
    atomic = False  # chunks commit as they go: a large table is not rewritten in one transaction

    dependencies = [
        ("distribution", "0015_event_index_by_delivery"),
    ]

    operations = [migrations.RunPython(compact_keys, migrations.RunPython.noop, atomic=False)]
