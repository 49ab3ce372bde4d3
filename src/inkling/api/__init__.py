"""The JSON API (``/api/v1``): readings for helpdesks and scripts, behind API keys.

``inkling.api.app.build_api`` makes the app; ``inkling.api.access`` decides who may call
what (scopes, roles, the caller), ``inkling.api.keys`` makes keys and imports those of an
older ``users.json``, ``inkling.api.sessions`` signs the dashboard's session cookie.
(Nothing is imported here, so that making a key does not load the web framework.)
"""
