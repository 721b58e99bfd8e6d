"""EE Extract: bulk extraction of Google Earth Engine image data into QGIS.

QGIS imports this package at start-up and calls :func:`classFactory`; nothing here may touch the
network or Earth Engine. The plugin class is imported inside the function so that the command
line and the pure-Python core can import ``eeextract_plugin.core`` without QGIS. The translation
for QGIS's locale is installed first, before any widget or algorithm exists (files only);
``EEExtractPlugin.unload`` removes it.
"""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    from eeextract_plugin import i18n

    i18n.install_translator()
    from eeextract_plugin.plugin import EEExtractPlugin

    return EEExtractPlugin(iface)
