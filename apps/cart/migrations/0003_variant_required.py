import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Apart from the data step before it: PostgreSQL refuses to alter a table with the pending
    foreign-key checks that the data step's updates leave in their transaction."""

    dependencies = [("cart", "0002_variant_lines")]

    operations = [
        migrations.AlterField(
            model_name='cartitem',
            name='variant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='catalog.variant'),
        ),
        migrations.AddConstraint(
            model_name='cartitem',
            constraint=models.UniqueConstraint(fields=('cart', 'variant'), name='cart_item_one_line_per_variant'),
        ),
    ]
