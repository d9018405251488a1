import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from the data step before it: PostgreSQL refuses to alter a table with the pending
    foreign-key checks that the data step's updates leave in their transaction."""

    dependencies = [("orders", "0003_store_orders_variants")]

    operations = [
        migrations.AlterField(
            model_name='orderline',
            name='variant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='order_lines', to='catalog.variant'),
        ),
        migrations.AlterField(
            model_name='orderline',
            name='store_order',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='orders.storeorder'),
        ),
    ]
