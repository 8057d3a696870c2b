"""Create the single head row; on PostgreSQL make entries and tree nodes append-only.

The triggers refuse UPDATE and DELETE on ``audit_auditentry`` and ``audit_treenode``,
and refuse moving the head backwards or deleting it.  TRUNCATE is not trapped
(test suites flush tables with it); the application's database role should not be
granted TRUNCATE, and ``audit_verify`` detects a truncated log anyway.  SQLite (the
embedded development default) gets no triggers: its flush uses DELETE.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_treenode_append_only BEFORE UPDATE OR DELETE ON audit_treenode
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();

CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit log head cannot be deleted'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.size < OLD.size THEN
        RAISE EXCEPTION 'audit log head cannot move backwards (% -> %)', OLD.size, NEW.size
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_loghead
    FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_loghead;
DROP TRIGGER IF EXISTS audit_treenode_append_only ON audit_treenode;
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_head_forward_only();
DROP FUNCTION IF EXISTS audit_refuse_change();
"""


def create_head(apps, schema_editor):
    LogHead = apps.get_model("audit", "LogHead")
    LogHead.objects.get_or_create(pk=1, defaults={"size": 0, "last_hash": bytes(32), "frontier": b""})


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
