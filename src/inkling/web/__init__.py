"""The dashboard: server-rendered pages behind a password sign-in.

``inkling.web.app.build_web`` makes the app ``inkling serve`` mounts at ``/``; sign-in
(password check, rate limits, lockout) is in ``login.py``, and the session cookie is the
API's own (``inkling.api.sessions``), so a signed-in browser may also call ``/api/v1``.
"""
