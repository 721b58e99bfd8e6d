"""What every EE Extract algorithm shares: connection parameters, parameter → spec helpers,
the run wrapper that maps the engine's progress, cancellation and errors onto Processing.

An algorithm subclass defines ``NAME``, ``GROUP`` (an id), ``displayName()`` and ``help_text()``
(in the user's language: :func:`~eeextract_plugin.i18n.tr`), ``define_parameters()`` and
``execute(parameters, context, feedback)``; ``execute`` translates the parameters into the engine's
job spec and calls the engine, nothing more (SLYR's rule).
"""

from __future__ import annotations

import logging
import re
import shutil
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterCrs,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsRectangle,
)
from qgis.PyQt.QtGui import QIcon

from eeextract_plugin import qgis_settings as qs
from eeextract_plugin.core import filters
from eeextract_plugin.core.errors import BadInput, Cancelled, EEExtractError
from eeextract_plugin.core.progress import CancelToken
from eeextract_plugin.core.results import JobResult
from eeextract_plugin.core.runner import default_workdir, resumable_job, resume_job, run_job
from eeextract_plugin.core.spec import MAX_CONCURRENCY, REDUCERS, JobSpec
from eeextract_plugin.i18n import number, tr
from eeextract_plugin.processing.connection import open_session, resolve_connection
from eeextract_plugin.processing.feedback import FeedbackProgress, engine_logs_to
from eeextract_plugin.processing.messages import parameter_message, reword_fields
from eeextract_plugin.processing.provider import ICON

log = logging.getLogger(__name__)

# The algorithms' groups: ids (stable in models), named in the user's language by group_name().
GROUP_EXTRACT = "extract"
GROUP_TABLES = "tables"


def group_name(group_id: str) -> str:
    return {GROUP_EXTRACT: tr("Extract from Earth Engine"), GROUP_TABLES: tr("Statistics and tables")}[group_id]


def connection_help() -> str:
    return (
        tr("<h3>Earth Engine connection</h3>"
           "<p>The connection comes from the advanced parameters <i>Earth Engine URL</i>, <i>Cloud "
           "project</i> and <i>Credentials</i> when set; otherwise from the environment variables "
           "<code>EEEXTRACT_URL</code>, <code>EEEXTRACT_PROJECT</code>, <code>EEEXTRACT_CREDENTIALS</code> "
           "(useful with <code>qgis_process</code>); otherwise from the plugin's connection settings. "
           "<i>Credentials</i>: <code>persistent</code> (your Google account's, as "
           "<code>earthengine authenticate</code> saved them), <code>none</code> (a sandbox) or the path "
           "of a service-account key file. <i>Concurrent requests</i>: your project's quota (Earth "
           "Engine's default is 40). All rows of a batch share one Earth Engine session.</p>")
        + tr("<h3>Cancel and resume</h3>"
             "<p>Cancelling stops the job; finished parts are kept. Running the algorithm again with the "
             "same parameters resumes it and fetches only what is missing.</p>"))


class EEExtractAlgorithm(QgsProcessingAlgorithm):
    NAME = ""
    GROUP = GROUP_EXTRACT
    TAGS: Tuple[str, ...] = ()
    #: Whether the algorithm talks to Earth Engine (adds the connection parameters).
    USES_EARTH_ENGINE = True

    EE_URL = "EE_URL"
    EE_PROJECT = "EE_PROJECT"
    EE_CREDENTIALS = "EE_CREDENTIALS"
    CONCURRENCY = "CONCURRENCY"

    # -- QgsProcessingAlgorithm boilerplate -------------------------------------------------
    def createInstance(self) -> EEExtractAlgorithm:
        return type(self)()

    def name(self) -> str:
        return self.NAME

    def displayName(self) -> str:  # pragma: no cover - every algorithm names itself
        raise NotImplementedError

    def group(self) -> str:
        return group_name(self.GROUP)

    def groupId(self) -> str:
        return self.GROUP

    def tags(self) -> List[str]:
        return ["earth engine", "gee", "google", *self.TAGS]  # i18n: not translated (search tags, with the translated name)

    def help_text(self) -> str:  # pragma: no cover - every algorithm says what it does
        raise NotImplementedError

    def shortHelpString(self) -> str:
        return self.help_text() + (connection_help() if self.USES_EARTH_ENGINE else "")

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def createCustomParametersWidget(self, parent: Any = None) -> Any:
        """Processing's own dialog, opened at a size where the fields and the help are readable
        (QGIS opens every algorithm dialog at its last saved size, 688 x 523 at first, which cuts
        the fields off); a larger size the user chose is kept."""
        try:
            from processing.gui.AlgorithmDialog import AlgorithmDialog
        except ImportError:  # no Processing GUI (qgis_process, a server)
            return None
        try:
            dialog = AlgorithmDialog(self, parent=parent)
        except TypeError:  # another signature: let Processing make its own
            return None
        fit_dialog(dialog)
        return dialog

    def initAlgorithm(self, config: Optional[Dict[str, Any]] = None) -> None:
        self.define_parameters()
        if self.USES_EARTH_ENGINE:
            self._add_connection_parameters()

    def define_parameters(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def execute(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def processAlgorithm(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        if feedback is None:
            feedback = QgsProcessingFeedback()
        self._outputs: Dict[str, str] = {}  # this run's destinations (output_path)
        outcome: Dict[str, Any] = {}
        with engine_logs_to(feedback):
            try:
                outcome["results"] = self.execute(parameters, context, feedback)
            except QgsProcessingException as error:
                outcome["message"] = str(error)
            except Cancelled as error:
                outcome["message"] = str(error) or tr("Cancelled.")
            except BadInput as error:  # the user's input: said in the dialog's words, no traceback
                outcome["message"] = parameter_message(self, error)
            except EEExtractError as error:  # no session, a job Earth Engine refuses: no traceback
                outcome["message"] = reword_fields(self, describe_error(error))
            except Exception as error:  # a bug: its traceback for the log's debug view
                feedback.pushDebugInfo(traceback.format_exc())
                outcome["message"] = (tr("Cancelled: {error}") if feedback.isCanceled() else "{error}").format(
                    error=describe_error(error))
        if "results" in outcome:
            return outcome["results"]
        # Raised outside the handlers, chained to nothing, with this frame holding no reference to
        # the run's feedback or context: Processing keeps the exception (and so its frames), and
        # the batch dialog's progress task lives as long as the feedback does — it stayed in the
        # task manager after a failed row, and QGIS could not quit.
        del feedback, context, parameters
        release_batch_dialog_frame(sys._getframe().f_back)
        raise QgsProcessingException(outcome["message"])

    # -- shared parameters ------------------------------------------------------------------
    def add_advanced(self, parameter: QgsProcessingParameterDefinition) -> None:
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)

    def _add_connection_parameters(self) -> None:
        self.add_advanced(
            QgsProcessingParameterString(
                self.EE_URL, tr("Earth Engine URL (empty: the plugin's settings)"), optional=True
            )
        )
        self.add_advanced(
            QgsProcessingParameterString(
                self.EE_PROJECT, tr("Cloud project (empty: the plugin's settings)"), optional=True
            )
        )
        self.add_advanced(
            QgsProcessingParameterString(
                self.EE_CREDENTIALS,
                tr("Credentials (empty: the plugin's settings)"),
                optional=True,
            )
        )
        self.add_advanced(
            QgsProcessingParameterNumber(
                self.CONCURRENCY, tr("Concurrent requests (0: the plugin's setting)"),
                type=QgsProcessingParameterNumber.Integer, minValue=0, maxValue=MAX_CONCURRENCY, defaultValue=0,
                optional=True,
            )
        )

    # -- translation helpers ----------------------------------------------------------------
    def output_path(self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext) -> str:
        """Where output ``name`` goes in this run, asked of QGIS once per run.

        For a temporary output ("TEMPORARY_OUTPUT", what the dialog passes by default) every
        ``parameterAsOutputLayer`` / ``parameterAsFileOutput`` call invents a new temporary path
        and, for layers, adds it to the layers the dialog opens afterwards: asked twice, the
        dialog reports the file never written as "not correctly generated". Every algorithm
        reads its destinations here, and nowhere else (tests/processing checks that).
        """
        outputs = self.__dict__.setdefault("_outputs", {})
        if name not in outputs:
            definition = self.parameterDefinition(name)
            if isinstance(definition, (QgsProcessingParameterFileDestination,
                                       QgsProcessingParameterFolderDestination)):
                optional = bool(definition.flags() & QgsProcessingParameterDefinition.FlagOptional)
                if parameters.get(name) in (None, "") and optional:
                    outputs[name] = ""  # an optional file or folder not asked for
                else:
                    outputs[name] = self.parameterAsFileOutput(parameters, name, context)
            else:
                outputs[name] = self.parameterAsOutputLayer(parameters, name, context)
        return outputs[name]

    def connection(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Any:
        return resolve_connection(
            url=self.parameterAsString(parameters, self.EE_URL, context),
            project=self.parameterAsString(parameters, self.EE_PROJECT, context),
            credentials=self.parameterAsString(parameters, self.EE_CREDENTIALS, context),
        )

    def prepareAlgorithm(self, parameters: Dict[str, Any], context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> bool:
        # Main thread: the only place that may read QGIS's auth database (master password) or
        # start the embedded sandbox. A problem is kept and raised when the session is needed
        # (an exception here would reach the user only as "There were errors executing ...").
        self._connection, self._connection_error = None, None
        # How jobs run (the settings' Jobs tab: quota, request rate, engine), as the dock's jobs.
        self._execution = qs.load_settings().execution_dict() if self.USES_EARTH_ENGINE else {}
        if self.USES_EARTH_ENGINE:
            try:
                self._connection = self.connection(parameters, context)
            except Exception as error:  # noqa: BLE001 - reported by session()
                where = error.outside() if hasattr(error, "outside") else error  # a setting: where it is
                self._connection_error = tr("Earth Engine connection: {error}").format(error=where)
        return True

    def session(self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback) -> Any:
        """The shared Earth Engine session (initialised once per distinct connection)."""
        if getattr(self, "_connection_error", None):
            raise QgsProcessingException(self._connection_error)
        connection = getattr(self, "_connection", None) or self.connection(parameters, context)
        feedback.pushInfo(tr("Earth Engine: {connection}").format(connection=connection.describe()))
        return open_session(connection)

    @staticmethod
    def check_cancelled(feedback: QgsProcessingFeedback) -> None:
        if feedback.isCanceled():
            raise Cancelled(tr("Cancelled by the user."))


#: The smallest size at which an algorithm dialog shows its fields and help without cutting.
DIALOG_SIZE = (1000, 700)


def fit_dialog(dialog: Any) -> None:
    """Grow ``dialog`` to :data:`DIALOG_SIZE` (within its screen), never shrink it."""
    from qgis.PyQt.QtWidgets import QApplication

    screen = dialog.screen() if hasattr(dialog, "screen") else QApplication.primaryScreen()
    room = screen.availableGeometry() if screen is not None else None
    width, height = DIALOG_SIZE
    if room is not None:
        width, height = min(width, int(room.width() * 0.95)), min(height, int(room.height() * 0.9))
    if dialog.width() < width or dialog.height() < height:
        dialog.resize(max(dialog.width(), width), max(dialog.height(), height))


# -- a QGIS leak, worked around ---------------------------------------------------------------

_HELD_FRAMES: List[Any] = []


def release_batch_dialog_frame(caller: Any) -> None:
    """QGIS (3.22 at least) keeps the traceback of an exception raised by processAlgorithm, and
    with it the calling frame: for the batch dialog, ``BatchAlgorithmDialog.runAlgorithm``, whose
    locals hold the dialog's feedback and, through a signal connection, its "Batch Processing"
    progress task. After a failed row that task never ended: it stayed in the task manager and
    QGIS could not quit. Once that frame has finished running, its locals are cleared (what
    freeing it would have done); only that frame, never a caller's own code."""
    if caller is None or caller.f_code.co_name != "runAlgorithm" or not caller.f_code.co_filename.endswith(
            "BatchAlgorithmDialog.py"):
        return
    if threading.current_thread() is not threading.main_thread():
        return
    _HELD_FRAMES.append(caller)
    if len(_HELD_FRAMES) == 1:
        _schedule_release()


def _schedule_release() -> None:
    from qgis.PyQt.QtCore import QTimer

    QTimer.singleShot(500, _release_finished_frames)


def _release_finished_frames() -> None:
    for frame in list(_HELD_FRAMES):
        try:
            frame.clear()  # RuntimeError while the batch is still running
        except RuntimeError:
            continue
        _HELD_FRAMES.remove(frame)
    if _HELD_FRAMES:
        _schedule_release()


# -- plain translation functions (also used by tests) -----------------------------------------


def crs_code(crs: QgsCoordinateReferenceSystem) -> str:
    """An EE-friendly CRS string: the authority code when there is one, else WKT."""
    if not crs.isValid():
        raise QgsProcessingException(tr("The CRS is not valid."))
    authid = crs.authid()
    if authid and ":" in authid and not authid.upper().startswith("USER:"):
        return authid
    return crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED)


def static_enum(name: str, description: str, values: Sequence[str], default: str) -> QgsProcessingParameterEnum:
    """An enum whose values are the engine's own words (``REDUCER=mean``, ``FORMAT=PNG``): stable
    in models and readable on the ``qgis_process`` command line."""
    return QgsProcessingParameterEnum(name, description, options=list(values), defaultValue=default,
                                      usesStaticStrings=True)


def bbox_list(rectangle: QgsRectangle) -> List[float]:
    return [rectangle.xMinimum(), rectangle.yMinimum(), rectangle.xMaximum(), rectangle.yMaximum()]


def split_list(text: str) -> List[str]:
    """Band names, statistics, property names: separated by commas, semicolons or spaces."""
    return [item for item in re.split(r"[,;\s]+", text or "") if item]


def describe_error(error: BaseException) -> str:
    """The message a user should read: Earth Engine's own text, named as such."""
    name = type(error).__name__
    message = str(error).strip() or name
    module = type(error).__module__.rpartition("_vendor.")[2]  # the ZIP's private copy of ee too
    if name == "EEException" or module == "ee" or module.startswith("ee."):
        return f"Earth Engine: {message}"  # i18n: not translated (a name: where the message comes from)
    return message


def remove_unless_resumable(folder: Path) -> None:
    """A private work folder whose run stopped before the engine recorded a job (bad input, no
    connection, an asset that does not exist) holds nothing to resume: it goes."""
    from eeextract_plugin.core.runner import list_jobs

    workdir = folder / ".eeextract"
    try:
        recorded = bool(list_jobs(workdir)) if workdir.exists() else False
    except Exception:  # noqa: BLE001 - an unreadable registry is kept for a look
        recorded = True
    if not recorded:
        shutil.rmtree(folder, ignore_errors=True)


def work_folder(output: str) -> Path:
    """The engine's folder for one single-file output: next to it, named after it (so rows with
    different outputs never share one, and running the same parameters again finds the job to
    resume); removed once the output is in place."""
    if not output:
        return Path(tempfile.mkdtemp(prefix=".eeextract-job-"))
    target = Path(output)
    folder = target.parent / f".eeextract-{target.name}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- parameter blocks shared by the extraction algorithms -------------------------------------

REDUCER_CHOICES = REDUCERS  # the spec's reducers (core.spec); "median" is the default here


def source_help() -> str:
    return tr(
        "<p><b>Asset ID</b>: an Earth Engine image (or, where dates are given, image collection) ID, "
        "e.g. <code>COPERNICUS/S2_SR_HARMONIZED</code>. <b>Expression</b> (advanced): instead of an "
        "asset, the JSON the Python client produces with "
        "<code>ee.serializer.encode(obj, for_cloud_api=True)</code> — never Python source.</p>")


def grid_help() -> str:
    return tr(
        "<p><b>CRS</b> and <b>scale</b> (output CRS units per pixel): empty or 0 keep the source's "
        "native grid; pixels are snapped to the native grid when CRS and scale allow.</p>")


class EngineJobAlgorithm(EEExtractAlgorithm):
    """An algorithm that builds one job spec and hands it to the engine."""

    ASSET = "ASSET"
    EXPRESSION = "EXPRESSION"
    BANDS = "BANDS"
    START = "START"
    END = "END"
    REDUCER = "REDUCER"
    EXTENT = "EXTENT"
    CRS = "CRS"
    SCALE = "SCALE"
    ID_FIELD = "ID_FIELD"
    FILTER = "FILTER"
    NORMALIZED_DIFFERENCE = "NORMALIZED_DIFFERENCE"
    INDEX_NAME = "INDEX_NAME"
    MAX_IMAGES = "MAX_IMAGES"

    #: the spec's ``kind``
    KIND = "mosaic"

    # -- parameter blocks -------------------------------------------------------------------
    def add_source_parameters(self, asset_label: Optional[str] = None, expression: bool = True,
                              dates: bool = False, dates_optional: bool = True,
                              reducer: bool = False, reducer_default: str = "median") -> None:
        self.addParameter(QgsProcessingParameterString(self.ASSET, asset_label or tr("Asset ID", "Processing parameter"),
                                                     optional=expression))
        self.addParameter(
            QgsProcessingParameterString(self.BANDS, tr("Bands (comma separated; empty: all)"), optional=True)
        )
        if dates:
            self.addParameter(QgsProcessingParameterString(
                self.START, tr("Start date (YYYY-MM-DD, inclusive)"), optional=dates_optional))
            self.addParameter(QgsProcessingParameterString(
                self.END, tr("End date (YYYY-MM-DD, exclusive)"), optional=dates_optional))
        if reducer:
            self.addParameter(static_enum(self.REDUCER, tr("Reducer"), REDUCER_CHOICES, reducer_default))
        if expression:
            expr = QgsProcessingParameterString(
                self.EXPRESSION, tr("Expression (serialized JSON, instead of an asset ID)"),
                multiLine=True, optional=True)
            self.add_advanced(expr)

    def add_grid_parameters(self, scale_default: float = 0.0) -> None:
        self.addParameter(QgsProcessingParameterCrs(
            self.CRS, tr("Output CRS (empty: the source's)"), optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            self.SCALE, tr("Scale: output CRS units per pixel (0: the source's)"),
            type=QgsProcessingParameterNumber.Double, minValue=0.0, defaultValue=scale_default,
            optional=True))

    NODATA = "NODATA"

    def add_nodata_parameter(self) -> None:
        self.add_advanced(QgsProcessingParameterNumber(
            self.NODATA, tr("NoData value for masked pixels (empty: none)"),
            type=QgsProcessingParameterNumber.Double, optional=True))

    def nodata(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Optional[float]:
        if parameters.get(self.NODATA) in (None, ""):
            return None
        return self.parameterAsDouble(parameters, self.NODATA, context)

    def add_extent_parameter(self) -> None:
        self.addParameter(QgsProcessingParameterExtent(self.EXTENT, tr("Extent (with its CRS)")))

    def add_id_field_parameter(self, parent: str, label: Optional[str] = None) -> None:
        self.addParameter(QgsProcessingParameterField(
            self.ID_FIELD, label or tr("Id field (names the outputs)"), parentLayerParameterName=parent,
            optional=True))

    # -- translation --------------------------------------------------------------------------
    def composite_source_spec(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Dict[str, Any]:
        """``source`` for one output per point or polygon: a collection is reduced to one
        composite; any other source has no reducer."""
        source = self.source_spec(parameters, context)
        if source["type"] == "collection":
            source["mode"] = "composite"
        else:
            source.pop("reducer", None)
        return source

    def optional_scale(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Optional[float]:
        """The ``SCALE`` parameter when given and positive, else None (Earth Engine's default)."""
        if parameters.get(self.SCALE) in (None, ""):
            return None
        scale = self.parameterAsDouble(parameters, self.SCALE, context)
        return scale if scale > 0 else None

    @staticmethod
    def single_output(paths: List[str], suffix: str, what: str) -> str:
        """The one file ending in ``suffix`` among ``paths`` (a typed list of the result:
        ``result.rasters`` or ``result.tables``); ``what`` names it in the error."""
        found = [p for p in paths if p.endswith(suffix)]
        if len(found) != 1:
            raise QgsProcessingException(tr("Expected one {what}, the engine wrote {paths}").format(
                what=what, paths=paths))
        return found[0]

    def source_spec(self, parameters: Dict[str, Any], context: QgsProcessingContext,
                    collection: Optional[bool] = None) -> Dict[str, Any]:
        """``source`` of the spec. ``collection`` None: a collection when dates are given."""
        asset = self.parameterAsString(parameters, self.ASSET, context).strip()
        expression = ""
        if self.parameterDefinition(self.EXPRESSION) is not None:
            expression = self.parameterAsString(parameters, self.EXPRESSION, context).strip()
        bands = split_list(self.parameterAsString(parameters, self.BANDS, context))
        start = end = ""
        if self.parameterDefinition(self.START) is not None:
            start = self.parameterAsString(parameters, self.START, context).strip()
            end = self.parameterAsString(parameters, self.END, context).strip()
        if asset and expression:
            raise QgsProcessingException(tr("Give an asset ID or an expression, not both."))
        if not asset and not expression:
            raise QgsProcessingException(tr("An asset ID (or an expression) is required."))
        source: Dict[str, Any]
        if expression:
            source = {"type": "expression", "expression": expression}
        else:
            is_collection = bool(start or end) if collection is None else collection
            source = {"type": "collection" if is_collection else "asset", "asset_id": asset}
            if is_collection:
                if start:
                    source["start"] = start
                if end:
                    source["end"] = end
        if bands:
            source["bands"] = bands
        if self.parameterDefinition(self.REDUCER) is not None:
            source["reducer"] = self.parameterAsEnumString(parameters, self.REDUCER, context)
        return source

    def grid_spec(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Dict[str, Any]:
        grid: Dict[str, Any] = {}
        crs = self.parameterAsCrs(parameters, self.CRS, context)
        if crs.isValid():
            grid["crs"] = crs_code(crs)
        scale = self.parameterAsDouble(parameters, self.SCALE, context) if parameters.get(self.SCALE) not in (None, "") else 0.0
        if scale and scale > 0:
            grid["scale"] = scale
        return grid

    def extent_region(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Dict[str, Any]:
        crs = self.parameterAsExtentCrs(parameters, self.EXTENT, context)
        rectangle = self.parameterAsExtent(parameters, self.EXTENT, context, crs)
        if rectangle.isNull() or rectangle.isEmpty():
            raise QgsProcessingException(tr("The extent is empty."))
        if not crs.isValid():
            crs = QgsCoordinateReferenceSystem("EPSG:4326")
        return {"type": "bbox", "bbox": bbox_list(rectangle), "crs": crs_code(crs)}

    def layer_region(self, parameters: Dict[str, Any], name: str, context: QgsProcessingContext,
                     feedback: QgsProcessingFeedback, id_field: str = "") -> Dict[str, Any]:
        """A vector parameter as a file the engine reads (QGIS writes a copy when it must:
        memory layers, selections, other providers)."""
        source = self.parameterAsSource(parameters, name, context)
        label = self.parameterDefinition(name).description()
        if source is None:
            raise QgsProcessingException(tr("{parameter}: cannot read the layer.").format(parameter=label))
        if source.featureCount() == 0:
            raise QgsProcessingException(tr("{parameter}: the layer has no features (or none selected): choose "
                                            "one that has some.").format(parameter=label))
        path, layer_name = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, name, context, ["gpkg", "geojson", "shp"], "gpkg", feedback
        )
        path = path.split("|")[0]
        region: Dict[str, Any] = {"type": "file", "path": path, "crs": crs_code(source.sourceCrs())}
        if layer_name:
            region["layer"] = layer_name
        if id_field:
            region["id_field"] = id_field
        return region

    def id_field(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> str:
        fields = self.parameterAsFields(parameters, self.ID_FIELD, context)
        return fields[0] if fields else ""

    def add_filter_parameters(self) -> None:
        self.addParameter(QgsProcessingParameterString(
            self.FILTER, tr("Image property filters (e.g. CLOUDY_PIXEL_PERCENTAGE < 20)"),
            optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.NORMALIZED_DIFFERENCE, tr("Normalized difference of two bands (e.g. B8,B4)"),
            optional=True))
        self.add_advanced(QgsProcessingParameterString(
            self.INDEX_NAME, tr("Name of the normalized difference band"), defaultValue="NDVI", optional=True))
        self.add_advanced(QgsProcessingParameterNumber(
            self.MAX_IMAGES, tr("At most this many images (0: no limit)"),
            type=QgsProcessingParameterNumber.Integer, minValue=0, defaultValue=0, optional=True))

    def collection_options(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> Dict[str, Any]:
        """``filters``, ``index`` and ``max_images`` of a collection source."""
        options: Dict[str, Any] = {}
        filters = parse_filters(self.parameterAsString(parameters, self.FILTER, context))
        if filters:
            options["filters"] = filters
        nd = split_list(self.parameterAsString(parameters, self.NORMALIZED_DIFFERENCE, context))
        if nd:
            if len(nd) != 2:
                raise QgsProcessingException(tr("The normalized difference needs exactly two bands, e.g. B8,B4."))
            name = self.parameterAsString(parameters, self.INDEX_NAME, context).strip() or "NDVI"
            options["index"] = {"name": name, "normalized_difference": nd}
        if parameters.get(self.MAX_IMAGES) not in (None, ""):
            max_images = self.parameterAsInt(parameters, self.MAX_IMAGES, context)
            if max_images > 0:
                options["max_images"] = max_images
        return options

    # -- running --------------------------------------------------------------------------------
    #: True: the engine writes into a private folder and the result is moved to the destination
    #: (single-file outputs); False: the spec's output directory is the user's folder.
    PRIVATE_OUTPUT_FOLDER = True

    def build_spec(self, parameters: Dict[str, Any], context: QgsProcessingContext,
                   feedback: QgsProcessingFeedback) -> Dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

    #: The parameter of the single-file output (the destination next to which the private
    #: folder is made); "" for algorithms that write into the user's folder.
    SINGLE_OUTPUT = ""

    def destination(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> str:
        """The single-file destination next to which the private folder is made."""
        return self.output_path(parameters, self.SINGLE_OUTPUT, context) if self.SINGLE_OUTPUT else ""

    def add_folder_outputs(self, folder_label: str, index: str, index_label: str, count: str,
                           count_label: str) -> None:
        """The output folder of many rasters, their footprint index layer and their count."""
        self.addParameter(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, folder_label))
        self.addParameter(QgsProcessingParameterFeatureSink(index, index_label, QgsProcessing.TypeVectorPolygon))
        self.addOutput(QgsProcessingOutputNumber(count, count_label))

    def table_spec(self, parameters: Dict[str, Any], context: QgsProcessingContext, operation: str,
                   reducer: str) -> Dict[str, Any]:
        """A job's ``table`` section: the operation, its reducer and the scale when one is given."""
        table: Dict[str, Any] = {"operation": operation, "reducer": reducer}
        scale = self.optional_scale(parameters, context)
        if scale is not None:
            table["scale"] = scale
        return table

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        raise NotImplementedError  # pragma: no cover

    def execute(self, parameters: Dict[str, Any], context: QgsProcessingContext,
                feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        raw = self.build_spec(parameters, context, feedback)
        private: Optional[Path] = None
        if self.PRIVATE_OUTPUT_FOLDER:
            private = work_folder(self.destination(parameters, context))
            raw.setdefault("output", {})["directory"] = str(private)
            raw["output"]["overwrite"] = True  # the folder is this output's alone
        for name, value in (getattr(self, "_execution", None) or {}).items():
            raw.setdefault("execution", {}).setdefault(name, value)
        concurrency = 0  # the algorithm's own parameter wins over the settings' quota
        if parameters.get(self.CONCURRENCY) not in (None, ""):
            concurrency = self.parameterAsInt(parameters, self.CONCURRENCY, context)
        if concurrency:
            raw.setdefault("execution", {})["max_concurrent_requests"] = min(concurrency, MAX_CONCURRENCY)
        self.check_cancelled(feedback)
        try:
            spec, result = self._run_engine(raw, parameters, context, feedback)
        except BaseException:
            if private is not None:
                remove_unless_resumable(private)
            raise
        workdir = getattr(result, "workdir", "")
        if not result.ok:
            where = tr("job {job}, state kept in {folder}: it can be resumed").format(job=result.job_id, folder=workdir)
            if result.state == "cancelled" or feedback.isCanceled():
                raise QgsProcessingException(tr("Cancelled after {done} of %Ln units ({where})", None,
                                                result.units_total).format(done=result.units_done, where=where))
            raise QgsProcessingException(tr("{message} ({where})").format(
                message=reword_fields(self, result.message or result.state), where=where))
        for notice in result.notices:
            feedback.pushWarning(notice)
        feedback.pushInfo(tr("Job {job}: {units} units, {megabytes} MB in {seconds} s; %Ln output(s)", None,
                             len(result.outputs)).format(
            job=result.job_id, units=number(result.units_done), megabytes=number(result.bytes / 1e6, 1),
            seconds=number(result.elapsed_s, 1)))
        outputs = self.collect_outputs(result, spec, parameters, context, feedback)
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
        feedback.setProgress(100)
        return outputs

    def _run_engine(self, raw: Dict[str, Any], parameters: Dict[str, Any], context: QgsProcessingContext,
                    feedback: QgsProcessingFeedback) -> Tuple[JobSpec, JobResult]:
        """Spec validation, session and the engine's run ."""
        spec = JobSpec.from_dict(raw)  # BadInput: worded with the parameters' labels by processAlgorithm
        session = self.session(parameters, context, feedback)
        self.check_cancelled(feedback)
        feedback.setProgress(2)
        feedback.pushInfo(tr("Job {name}: {kind} of {source}").format(
            name=spec.name, kind=spec.kind, source=spec.source.asset_id or tr("an expression")))
        progress, cancel = FeedbackProgress(feedback, start=2, end=95), CancelToken(feedback.isCanceled)
        previous = resumable_job(spec, default_workdir(spec))
        if previous:
            feedback.pushInfo(tr("Resuming job {job}: units already fetched are not fetched again").format(job=previous))
            return spec, resume_job(previous, session, default_workdir(spec), progress=progress, cancel=cancel,
                                    execution=spec.execution.to_dict())  # this run's quota and engine
        def planned(summary: Any) -> None:
            for line in summary.lines():
                feedback.pushInfo(line)

        return spec, run_job(spec, session, progress=progress, cancel=cancel, on_planned=planned)

    @staticmethod
    def job_name(algorithm: str, output: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9_.\- ]", "_", Path(output).stem if output else "")[:60]
        return f"{algorithm}-{stem}" if stem else algorithm


def parse_filters(text: str) -> List[Dict[str, Any]]:
    """The FILTER parameter → the spec's property filters (the core's grammar, both spellings)."""
    try:
        return filters.parse_filters(text)
    except BadInput as error:
        raise QgsProcessingException(tr("Image property filters: {reason}").format(reason=error.reason)) from error
