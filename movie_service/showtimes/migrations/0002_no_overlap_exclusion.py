"""PostgreSQL: refuse two overlapping scheduled showtimes on one screen.

An exclusion constraint over (screen, [starts_at, ends_at)) needs btree_gist for the equality on
screen_id (a trusted extension: the database owner may create it). SQLite has no such constraint;
there the service's check under a lock on the screen row is the guard. Kept out of the model
state on purpose, so the same migrations run on both databases.
"""

from django.db import migrations

CONSTRAINT = "showtime_no_overlap_per_screen"

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""
    ALTER TABLE showtimes_showtime ADD CONSTRAINT {CONSTRAINT}
    EXCLUDE USING gist (screen_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status = 'scheduled')
    """,
]
BACKWARD = [f"ALTER TABLE showtimes_showtime DROP CONSTRAINT IF EXISTS {CONSTRAINT}"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("showtimes", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
