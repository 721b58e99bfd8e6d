"""Signing in to Google for Earth Engine from QGIS (no terminal, no ``earthengine authenticate``).

- :mod:`.google_oauth` — the earthengine-api's OAuth flow for installed applications, browser and
  local redirect (PKCE), in plain Python: credentials stored where ``earthengine authenticate``
  stores them, sign-out, and the Cloud project checked with one cheap call;
- :mod:`.widget` — the "Sign in with Google" row of the settings dialog, running the flow in a
  background task.
"""
