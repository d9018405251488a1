"""Full-text search on PostgreSQL: a trigger keeps ``search_vector`` current on every insert and on
every update that touches the name or the description (bulk inserts and admin edits included),
and a GIN index serves ``@@``. Other databases have neither (search falls back to ``contains``)."""

from django.db import migrations

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION catalog_product_search_vector_update() RETURNS trigger AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('english'::regconfig, coalesce(NEW.name, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(NEW.description, '')), 'B');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""
TRIGGER = """
CREATE TRIGGER catalog_product_search_vector_trigger
BEFORE INSERT OR UPDATE OF name, description, search_vector ON catalog_product
FOR EACH ROW EXECUTE FUNCTION catalog_product_search_vector_update();
"""
BACKFILL = "UPDATE catalog_product SET search_vector = NULL;"
INDEX = "CREATE INDEX catalog_product_search_gin ON catalog_product USING gin (search_vector);"

DROP = """
DROP INDEX IF EXISTS catalog_product_search_gin;
DROP TRIGGER IF EXISTS catalog_product_search_vector_trigger ON catalog_product;
DROP FUNCTION IF EXISTS catalog_product_search_vector_update();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in (TRIGGER_FUNCTION, TRIGGER, BACKFILL, INDEX):
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
