"""The explorer: a page for people to search, chart and curate the tracker.

It is served by the service itself from `static/` (no CDN, so it works offline) and uses only
the public API, which makes it the reference frontend. `install(app)` mounts it.
"""
