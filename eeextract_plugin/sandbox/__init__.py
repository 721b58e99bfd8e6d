"""A local server that speaks the Earth Engine REST API v1, and the Cloud Storage and Drive APIs
that exports write to, so the unmodified ``earthengine-api`` client works offline.

Faithful to the service's limits, errors and latency (see ``config.SandboxConfig``): every figure
EE Extract reports is measured against it. Pure Python: no QGIS or Qt.
"""
