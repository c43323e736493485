"""The dashboard's failure-layer bar and spend chart: read once per import or clustering and cached.

Both charts are drawn from a handful of grouped queries; their data is cached under a key that changes whenever
the migration gets a new attempt or a clustering run, so a page view after an import recomputes them once and
every view until the next one reads the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max
from django.urls import reverse

from fleetui.common.charts import LAYER_ORDER, LayerCount, SpendBar
from runs.fleet.models import Attempt, Layer, Migration, Target
from triage.clusters.costs import Spend, cluster_spend_by_layer, migration_spend_by_layer
from triage.clusters.models import ClusteringRun, FailureCluster

SPEND_BARS = 10
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class LayerCharts:
    """What the layer bar and the spend chart show; `unit` is "USD" when any attempt has a cost, else "tokens"."""

    layer_counts: list[LayerCount]
    spend_bars: list[SpendBar]
    spend_by_layer: list[tuple[str, str, Spend]]
    unit: str

    @property
    def repositories(self) -> int:
        return sum(row.count for row in self.layer_counts)


def _version(migration: Migration) -> tuple:
    newest_attempt = Attempt.objects.filter(migration=migration).aggregate(newest=Max("id"))["newest"]
    newest_run = ClusteringRun.objects.filter(migration=migration).aggregate(newest=Max("id"))["newest"]
    return newest_attempt, newest_run


def _layer_counts(migration: Migration) -> list[LayerCount]:
    rows = dict(
        Target.objects.filter(migration=migration, latest_attempt__isnull=False)
        .values_list("latest_attempt__layer")
        .annotate(n=Count("id"))
        .order_by()
    )
    labels = dict(Layer.choices)
    repos_url = reverse("migration-repos", args=[migration.slug])
    return [
        LayerCount(layer=layer, label=labels[layer], count=rows.get(layer, 0), url=f"{repos_url}?layer={layer}")
        for layer in LAYER_ORDER
    ]


def _amount(spend: Spend, unit: str) -> float:
    if unit == "USD":
        return float(spend.usd or 0)
    return float(spend.tokens)


def _spend_bars(migration: Migration, unit: str) -> list[SpendBar]:
    clusters = list(
        FailureCluster.objects.filter(migration=migration, size__gt=0)
        .order_by("-size", "id")
        .values_list("id", "title")[: SPEND_BARS * 5]
    )
    by_cluster = cluster_spend_by_layer(cluster_ids=[pk for pk, _ in clusters])
    titles = dict(clusters)
    ranked = sorted(
        by_cluster.items(),
        key=lambda item: (-sum(_amount(spend, unit) for spend in item[1].values()), item[0]),
    )[:SPEND_BARS]
    return [
        SpendBar(
            key=f"c{pk}",
            title=" ".join((titles[pk] or "untitled cluster").split()),
            url=reverse("cluster-detail", args=[pk]),
            by_layer={layer: _amount(spend, unit) for layer, spend in layers.items()},
        )
        for pk, layers in ranked
        if any(_amount(spend, unit) for spend in layers.values())
    ]


def _compute(migration: Migration) -> LayerCharts:
    total = migration_spend_by_layer(migration_id=migration.pk)
    unit = "USD" if any(spend.usd for spend in total.values()) else "tokens"
    labels = dict(Layer.choices)
    return LayerCharts(
        layer_counts=_layer_counts(migration),
        spend_bars=_spend_bars(migration, unit),
        spend_by_layer=[(layer, labels[layer], total[layer]) for layer in LAYER_ORDER if layer in total],
        unit=unit,
    )


def migration_layer_charts(*, migration: Migration) -> LayerCharts:
    """The layer bar's and spend chart's data for the migration, from the cache while nothing new was imported."""
    newest_attempt, newest_run = _version(migration)
    key = f"fleetui:layer-charts:{migration.pk}:{newest_attempt}:{newest_run}"
    found = cache.get(key)
    if found is None:
        found = _compute(migration)
        cache.set(key, found, CACHE_SECONDS)
    return found
