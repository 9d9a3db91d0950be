"""Drop the ``varchar_pattern_ops`` index Django adds beside a unique
CharField on PostgreSQL, for ``User.username``: no query here matches a
username by prefix (login and the roster import look usernames up exactly,
through the unique index; the admin's search is a case-insensitive
``contains``, which no btree serves). Each new account paid for it: a roster
import creates thousands."""

from django.db import migrations

INDEX = "core_user_username_36e4f7f7_like"


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON core_user (username varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0006_village_radius_optional")]

    operations = [migrations.RunPython(drop, create, elidable=False)]
