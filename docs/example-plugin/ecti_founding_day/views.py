"""The plugin's page."""


def event_counts(request):
    counts = request.registry.get("founding_day.event_counts", {})
    return {"counts": sorted(counts.items())}
