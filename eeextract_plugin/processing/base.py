"""What every EE Extract algorithm shares: connection parameters, parameter → spec helpers,
the run wrapper that maps the engine's progress, cancellation and errors onto Processing.

An algorithm subclass defines ``NAME``, ``DISPLAY_NAME``, ``GROUP``/``GROUP_ID``, ``HELP``,
``define_parameters()`` and ``run(parameters, context, feedback)``; ``run`` translates the
parameters into the engine's job spec and calls the engine, nothing more (SLYR's rule).
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterString,
    QgsProject,
    QgsRectangle,
)
from qgis.PyQt.QtGui import QIcon

from eeextract_plugin.processing.connection import SESSION, Connection, resolve_connection
from eeextract_plugin.processing.feedback import FeedbackProgress, engine_logs_to
from eeextract_plugin.processing.provider import ICON

LOG = logging.getLogger(__name__)

GROUP_EXTRACT = ("extract", "Extract from Earth Engine")
GROUP_TABLES = ("tables", "Statistics and tables")

CONNECTION_HELP = (
    "<h3>Earth Engine connection</h3>"
    "<p>The connection comes from the advanced parameters <i>Earth Engine URL</i>, <i>Cloud "
    "project</i> and <i>Credentials</i> when set; otherwise from the environment variables "
    "<code>EEEXTRACT_URL</code>, <code>EEEXTRACT_PROJECT</code>, <code>EEEXTRACT_CREDENTIALS</code> "
    "(useful with <code>qgis_process</code>); otherwise from the plugin's connection settings. "
    "All rows of a batch share one Earth Engine session.</p>"
)


class EngineCancelled(Exception):
    """Raised by the adapters when the user cancelled and the engine stopped."""


class EEExtractAlgorithm(QgsProcessingAlgorithm):
    NAME = ""
    DISPLAY_NAME = ""
    GROUP = GROUP_EXTRACT
    HELP = ""
    TAGS: Tuple[str, ...] = ()
    #: Whether the algorithm talks to Earth Engine (adds the connection parameters).
    USES_EARTH_ENGINE = True

    EE_URL = "EE_URL"
    EE_PROJECT = "EE_PROJECT"
    EE_CREDENTIALS = "EE_CREDENTIALS"

    # -- QgsProcessingAlgorithm boilerplate -------------------------------------------------
    def createInstance(self) -> "EEExtractAlgorithm":
        return type(self)()

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:
        return self.DISPLAY_NAME

    def group(self) -> str:
        return self.GROUP[1]

    def groupId(self) -> str:
        return self.GROUP[0]

    def tags(self) -> List[str]:
        return ["earth engine", "gee", "google", *self.TAGS]

    def shortHelpString(self) -> str:
        return self.HELP + (CONNECTION_HELP if self.USES_EARTH_ENGINE else "")

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def initAlgorithm(self, config: Optional[Dict[str, Any]] = None) -> None:
        self.define_parameters()
        if self.USES_EARTH_ENGINE:
            self._add_connection_parameters()

    def define_parameters(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def processAlgorithm(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        if feedback is None:
            feedback = QgsProcessingFeedback()
        with engine_logs_to(feedback):
            try:
                return self.run(parameters, context, feedback)
            except QgsProcessingException:
                raise
            except EngineCancelled as error:
                raise QgsProcessingException(str(error) or "Cancelled.") from error
            except Exception as error:  # the engine's failure, with Earth Engine's own message
                if feedback.isCanceled():
                    raise QgsProcessingException(f"Cancelled: {error}") from error
                raise QgsProcessingException(describe_error(error)) from error

    # -- shared parameters ------------------------------------------------------------------
    def add_advanced(self, parameter: QgsProcessingParameterDefinition) -> None:
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)

    def _add_connection_parameters(self) -> None:
        self.add_advanced(
            QgsProcessingParameterString(
                self.EE_URL, "Earth Engine URL (empty: settings / EEEXTRACT_URL)", optional=True
            )
        )
        self.add_advanced(
            QgsProcessingParameterString(
                self.EE_PROJECT, "Cloud project (empty: settings / EEEXTRACT_PROJECT)", optional=True
            )
        )
        self.add_advanced(
            QgsProcessingParameterString(
                self.EE_CREDENTIALS,
                "Credentials: persistent, none, or a service-account key file (empty: settings)",
                optional=True,
            )
        )

    # -- translation helpers ----------------------------------------------------------------
    def connection(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Connection:
        return resolve_connection(
            url=self.parameterAsString(parameters, self.EE_URL, context),
            project=self.parameterAsString(parameters, self.EE_PROJECT, context),
            credentials=self.parameterAsString(parameters, self.EE_CREDENTIALS, context),
        )

    def session(self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback) -> Any:
        """The shared Earth Engine session (initialised once per distinct connection)."""
        connection = self.connection(parameters, context)
        before = SESSION.initialisations
        session = SESSION.get(connection)
        if SESSION.initialisations != before:
            feedback.pushInfo(f"Earth Engine session initialised: {connection.describe()}")
        return session

    @staticmethod
    def progress(feedback: QgsProcessingFeedback, label: str = "") -> FeedbackProgress:
        return FeedbackProgress(feedback, label)

    @staticmethod
    def check_cancelled(feedback: QgsProcessingFeedback) -> None:
        if feedback.isCanceled():
            raise EngineCancelled("Cancelled by the user.")


# -- plain translation functions (also used by tests) -----------------------------------------


def crs_code(crs: QgsCoordinateReferenceSystem) -> str:
    """An EE-friendly CRS string: the authority code when there is one, else WKT."""
    if not crs.isValid():
        raise QgsProcessingException("The CRS is not valid.")
    authid = crs.authid()
    if authid and ":" in authid and not authid.upper().startswith("USER:"):
        return authid
    return crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED)


def extent_in(
    rectangle: QgsRectangle,
    source_crs: QgsCoordinateReferenceSystem,
    target_crs: QgsCoordinateReferenceSystem,
    context: Optional[QgsProcessingContext] = None,
) -> QgsRectangle:
    """``rectangle`` (in ``source_crs``) as a bounding box in ``target_crs``."""
    if not source_crs.isValid() or not target_crs.isValid() or source_crs == target_crs:
        return QgsRectangle(rectangle)
    transform_context = (
        context.transformContext() if context is not None else QgsProject.instance().transformContext()
    )
    transform = QgsCoordinateTransform(source_crs, target_crs, transform_context)
    return transform.transformBoundingBox(rectangle)


def bbox_list(rectangle: QgsRectangle) -> List[float]:
    return [rectangle.xMinimum(), rectangle.yMinimum(), rectangle.xMaximum(), rectangle.yMaximum()]


def split_list(text: str) -> List[str]:
    """Band names, statistics, property names: separated by commas, semicolons or spaces."""
    return [item for item in re.split(r"[,;\s]+", text or "") if item]


def describe_error(error: BaseException) -> str:
    """The message a user should read: Earth Engine's own text, named as such."""
    name = type(error).__name__
    message = str(error).strip() or name
    if name == "EEException" or type(error).__module__.startswith("ee"):
        return f"Earth Engine: {message}"
    return message


def ensure_folder(path: str) -> Path:
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise QgsProcessingException(f"Cannot create the output folder {folder}: {error}") from error
    if not os.access(folder, os.W_OK):
        raise QgsProcessingException(f"The output folder {folder} is not writable.")
    return folder


def work_folder(output: str) -> Path:
    """A private folder for the engine's job state next to an output, never shared by rows."""
    parent = Path(output).parent if output else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".eeextract-job-", dir=str(parent)))
