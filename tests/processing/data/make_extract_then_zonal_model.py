"""Writes ``extract_then_zonal.model3`` next to this file: Extract image (direct) → Zonal
statistics (local). Run ``QT_QPA_PLATFORM=offscreen .venv/bin/python <this file>``."""

from __future__ import annotations

import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsProcessing,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QPointF


def build() -> QgsProcessingModelAlgorithm:
    model = QgsProcessingModelAlgorithm("Extract then zonal statistics", "EE Extract tests", "eeextract_tests")
    model.setHelpContent({"ALG_DESC": "Extracts an Earth Engine image over an extent, then computes "
                                      "zonal statistics of the raster per polygon."})

    def add_input(definition, y: float) -> None:
        component = QgsProcessingModelParameter(definition.name())
        component.setPosition(QPointF(100, y))
        model.addModelParameter(definition, component)

    add_input(QgsProcessingParameterString("asset", "Asset ID", "SANDBOX/DEM"), 50)
    add_input(QgsProcessingParameterExtent("extent", "Extent"), 100)
    add_input(QgsProcessingParameterNumber("scale", "Scale", QgsProcessingParameterNumber.Double, 0.0, True, 0.0), 150)
    add_input(QgsProcessingParameterFeatureSource("zones", "Zones", [QgsProcessing.TypeVectorPolygon]), 200)
    add_input(QgsProcessingParameterField("id_field", "Zone id field", None, "zones"), 250)

    def from_input(name: str) -> list:
        return [QgsProcessingModelChildParameterSource.fromModelParameter(name)]

    def output(name: str, description: str, child: str, child_output: str) -> QgsProcessingModelOutput:
        out = QgsProcessingModelOutput(name, description)
        out.setChildId(child)
        out.setChildOutputName(child_output)
        return out

    extract = QgsProcessingModelChildAlgorithm("eeextract:extract_image")
    extract.setChildId("extract")
    extract.setDescription("Extract image (direct)")
    extract.setPosition(QPointF(400, 100))
    for parameter, source in (("ASSET", "asset"), ("EXTENT", "extent"), ("SCALE", "scale")):
        extract.addParameterSources(parameter, from_input(source))
    extract.setModelOutputs({"raster": output("raster", "Raster", "extract", "OUTPUT")})
    model.addChildAlgorithm(extract)

    zonal = QgsProcessingModelChildAlgorithm("eeextract:zonal_statistics")
    zonal.setChildId("zonal")
    zonal.setDescription("Zonal statistics (local)")
    zonal.setPosition(QPointF(700, 200))
    zonal.addParameterSources("INPUT", [QgsProcessingModelChildParameterSource.fromChildOutput("extract", "OUTPUT")])
    zonal.addParameterSources("ZONES", from_input("zones"))
    zonal.addParameterSources("ID_FIELD", from_input("id_field"))
    zonal.addParameterSources("STATISTICS", [QgsProcessingModelChildParameterSource.fromStaticValue("count,mean,min,max")])
    zonal.addParameterSources("ENGINE", [QgsProcessingModelChildParameterSource.fromStaticValue("exactextract")])
    zonal.setModelOutputs({
        "statistics": output("statistics", "Statistics table", "zonal", "OUTPUT_TABLE"),
        "zones_with_statistics": output("zones_with_statistics", "Zones with statistics", "zonal", "OUTPUT"),
    })
    model.addChildAlgorithm(zonal)
    model.updateDestinationParameters()
    return model


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    from eeextract_plugin.processing.provider import EEExtractProvider

    provider = EEExtractProvider()  # kept referenced: the registry does not own Python providers
    QgsApplication.processingRegistry().addProvider(provider)
    target = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).with_name("extract_then_zonal.model3"))
    assert build().toFile(target), target
    print(target)
