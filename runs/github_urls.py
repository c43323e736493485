"""URLs of this capability: its pages and its /api/ endpoints."""

urlpatterns: list = []
