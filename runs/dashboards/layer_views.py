"""The dashboard's failure-layer and spend charts, loaded after the page so the page shell never waits for them."""

from django.shortcuts import get_object_or_404, render

from fleetui.common import charts
from runs.dashboards.layer_charts import migration_layer_charts
from runs.fleet.models import Layer, Migration


def migration_layers(request, slug: str):
    """The partial with the layer bar and the spend by cluster and layer."""
    migration = get_object_or_404(Migration, slug=slug)
    data = migration_layer_charts(migration=migration)
    context = {
        "migration": migration,
        "data": data,
        "layers_chart": charts.layers_figure(data.layer_counts) if data.repositories else None,
        "spend_chart": charts.spend_figure(data.spend_bars, labels=dict(Layer.choices), unit=data.unit)
        if data.spend_bars
        else None,
    }
    return render(request, "dashboards/_layers.html", context)
