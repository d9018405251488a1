"""The catalogue's listing version (PostgreSQL): one row whose value changes in every transaction
that changes what the public list's counts depend on, committed with that change. A worker keeps a
listing's exact count with the version it was counted at and counts again only when the version
moved (apps/catalog/listing.py, ``ListingPlan.count``).

What moves it: a product created or deleted, or its status, store, category or price changed; a
store created, deleted, opened, closed or its slug changed; any change to a category (the tree's
paths name subtrees). Not a product's stock, name or rating, so checkouts never touch it.

The row triggers are deferred constraint triggers: the version row is updated at commit, once per
transaction (a transaction-local setting remembers it), after every other lock the transaction
takes, so it adds no lock-order deadlock and holds its lock only while the transaction commits.
Their events wait for the commit too, and PostgreSQL refuses to ALTER a table with pending trigger
events: a later migration that writes products, stores or categories and then alters one of those
tables runs SET CONSTRAINTS ALL IMMEDIATE in between (docs/development.md, "Migrations").
"""

from django.db import migrations

TABLE = """
CREATE TABLE IF NOT EXISTS catalog_listing_version (
    id smallint PRIMARY KEY CHECK (id = 1),
    value bigint NOT NULL
);
INSERT INTO catalog_listing_version (id, value) VALUES (1, 1) ON CONFLICT (id) DO NOTHING;
"""

BUMP = """
CREATE OR REPLACE FUNCTION catalog_listing_version_bump() RETURNS trigger AS $$
BEGIN
    IF current_setting('bazaar.listing_version_bumped', true) IS DISTINCT FROM 'on' THEN
        PERFORM set_config('bazaar.listing_version_bumped', 'on', true);
        UPDATE catalog_listing_version SET value = value + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

TRIGGERS = """
CREATE CONSTRAINT TRIGGER catalog_product_listing_rows
AFTER INSERT OR DELETE ON catalog_product DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION catalog_listing_version_bump();

CREATE CONSTRAINT TRIGGER catalog_product_listing_columns
AFTER UPDATE ON catalog_product DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (
    OLD.status IS DISTINCT FROM NEW.status OR OLD.store_id IS DISTINCT FROM NEW.store_id
    OR OLD.category_id IS DISTINCT FROM NEW.category_id OR OLD.price IS DISTINCT FROM NEW.price
) EXECUTE FUNCTION catalog_listing_version_bump();

CREATE CONSTRAINT TRIGGER accounts_store_listing_rows
AFTER INSERT OR DELETE ON accounts_store DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION catalog_listing_version_bump();

CREATE CONSTRAINT TRIGGER accounts_store_listing_columns
AFTER UPDATE ON accounts_store DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.slug IS DISTINCT FROM NEW.slug)
EXECUTE FUNCTION catalog_listing_version_bump();

CREATE CONSTRAINT TRIGGER catalog_category_listing
AFTER INSERT OR UPDATE OR DELETE ON catalog_category DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION catalog_listing_version_bump();

CREATE TRIGGER catalog_product_listing_truncate AFTER TRUNCATE ON catalog_product
FOR EACH STATEMENT EXECUTE FUNCTION catalog_listing_version_bump();
CREATE TRIGGER accounts_store_listing_truncate AFTER TRUNCATE ON accounts_store
FOR EACH STATEMENT EXECUTE FUNCTION catalog_listing_version_bump();
CREATE TRIGGER catalog_category_listing_truncate AFTER TRUNCATE ON catalog_category
FOR EACH STATEMENT EXECUTE FUNCTION catalog_listing_version_bump();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS catalog_product_listing_rows ON catalog_product;
DROP TRIGGER IF EXISTS catalog_product_listing_columns ON catalog_product;
DROP TRIGGER IF EXISTS accounts_store_listing_rows ON accounts_store;
DROP TRIGGER IF EXISTS accounts_store_listing_columns ON accounts_store;
DROP TRIGGER IF EXISTS catalog_category_listing ON catalog_category;
DROP TRIGGER IF EXISTS catalog_product_listing_truncate ON catalog_product;
DROP TRIGGER IF EXISTS accounts_store_listing_truncate ON accounts_store;
DROP TRIGGER IF EXISTS catalog_category_listing_truncate ON catalog_category;
"""
DROP = DROP_TRIGGERS + """
DROP FUNCTION IF EXISTS catalog_listing_version_bump();
DROP TABLE IF EXISTS catalog_listing_version;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Repeatable: the table and the function are not models', so whatever drops the models'
    # tables to migrate again from scratch (django-test-migrations does) leaves them behind.
    for statement in (TABLE, BUMP, DROP_TRIGGERS, TRIGGERS):
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0007_default_variants"), ("accounts", "0002_store_commission_rate")]

    operations = [migrations.RunPython(forwards, backwards)]
