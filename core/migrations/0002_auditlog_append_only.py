"""The database itself refuses to change or remove audit entries.

PostgreSQL: a trigger rejects every UPDATE, and a DELETE of an entry younger
than the retention period (180 days). SQLite: the same with triggers that
RAISE(ABORT). The test settings may leave out the SQLite DELETE trigger,
because SQLite's flush between transactional tests deletes rows (PostgreSQL
flushes with TRUNCATE, which row triggers do not see).
"""

from django.conf import settings
from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION core_auditlog_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'core_auditlog is append-only: entries cannot be changed';
    END IF;
    IF OLD.created_at > now() - make_interval(days => %(days)d) THEN
        RAISE EXCEPTION 'core_auditlog entries are kept %(days)d days';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditlog_append_only
    BEFORE UPDATE OR DELETE ON core_auditlog
    FOR EACH ROW EXECUTE FUNCTION core_auditlog_append_only();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS core_auditlog_append_only ON core_auditlog;
DROP FUNCTION IF EXISTS core_auditlog_append_only();
"""

SQLITE_UPDATE = """
CREATE TRIGGER core_auditlog_no_update BEFORE UPDATE ON core_auditlog
BEGIN
    SELECT RAISE(ABORT, 'core_auditlog is append-only: entries cannot be changed');
END;
"""

SQLITE_DELETE = """
CREATE TRIGGER core_auditlog_no_delete BEFORE DELETE ON core_auditlog
WHEN OLD.created_at > datetime('now', '-%(days)d days')
BEGIN
    SELECT RAISE(ABORT, 'core_auditlog entries are kept for the retention period');
END;
"""


def forward(apps, schema_editor):
    days = int(getattr(settings, "AUDIT_RETENTION_DAYS", 180))
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD % {"days": days})
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UPDATE)
        if getattr(settings, "AUDIT_LOG_SQLITE_DELETE_GUARD", True):
            schema_editor.execute(SQLITE_DELETE % {"days": days})


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditlog_no_update;")
        schema_editor.execute("DROP TRIGGER IF EXISTS core_auditlog_no_delete;")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
