"""Test support that must load before pytest-qgis starts QGIS (a pytest11 entry point). Not part
of the QGIS plugin: the plugin package (eeextract_plugin/) ships no test code."""
