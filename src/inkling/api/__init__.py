"""The JSON API (``/api/v1``): readings for helpdesks and scripts, behind API keys.

``inkling.api.app.build_api`` makes the app; ``inkling.api.keys.ApiKeys`` holds the keys.
(Nothing is imported here, so that reading the keys does not load the web framework.)
"""
