"""Python typed in the dock → the serialized Earth Engine expression a job file stores.

This runs the user's own Python (the dock says so plainly, next to the box); job files only ever
hold the serialized JSON, never Python source.
"""

from __future__ import annotations

import ast
import json
from typing import Any, Dict

from eeextract_plugin.gui.qgis_regions import FormError
from eeextract_plugin.i18n import tr


def expression_from_python(code: str, ee_module: Any) -> Dict[str, Any]:
    """Run user code with ``ee`` and serialize its result (the last expression or ``image``).

    This executes the user's Python: the dock says so plainly. Needs an initialised session (the
    client builds functions from the server's algorithm list), so it runs on a worker thread.
    """
    tree = ast.parse(code, filename="<expression>", mode="exec")
    if not tree.body:
        raise FormError(tr("The expression is empty: type Python that builds an Earth Engine object."))
    namespace: Dict[str, Any] = {"ee": ee_module}
    last = tree.body[-1]
    if isinstance(last, ast.Expr):
        body = ast.Module(body=tree.body[:-1], type_ignores=[])
        exec(compile(body, "<expression>", "exec"), namespace)  # noqa: S102 - the user's code, said so
        result = eval(compile(ast.Expression(last.value), "<expression>", "eval"), namespace)  # noqa: S307
    else:
        exec(compile(tree, "<expression>", "exec"), namespace)  # noqa: S102
        result = namespace.get("image")
    if result is None or not hasattr(result, "serialize"):
        raise FormError(tr("The last line of the expression (or a variable 'image') must be an Earth Engine "
                           "object, e.g. ee.Image('USGS/SRTMGL1_003')."))
    # A JSON round trip: plain dicts and lists only, exactly what a job file stores.
    return json.loads(json.dumps(ee_module.serializer.encode(result, for_cloud_api=True)))
