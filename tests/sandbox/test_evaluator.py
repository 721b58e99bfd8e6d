"""The sandbox's expression evaluator and engine facade.

Expressions are built with the real client (``ee.serializer.encode(..., for_cloud_api=True)``)
or, for malformed and edge cases, by hand; values are checked against known answers, through the
engine directly and end to end through the unmodified client (``ee_sandbox`` fixture).
"""

from __future__ import annotations

import base64

import pytest

from eeextract_plugin.sandbox import functions
from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.engine import Engine, asset_id_to_name, asset_name_to_id
from eeextract_plugin.sandbox.errors import EEError


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(SandboxConfig())


def encode(obj):
    from ee import serializer

    return serializer.encode(obj, for_cloud_api=True)


def invocation(name, **arguments):
    return {"functionInvocationValue": {"functionName": name, "arguments": arguments}}


def const(value):
    return {"constantValue": value}


def expr(node, **values):
    return {"result": "0", "values": {"0": node, **values}}


# ------------------------------------------------------------------------------------- nodes


def test_constant_nodes(engine):
    assert engine.compute_value(expr(const({"a": [1, 2.5, "x", None, True]}))) == {"a": [1, 2.5, "x", None, True]}
    assert engine.compute_value(expr({"integerValue": "9007199254740993"})) == 9007199254740993
    assert engine.evaluate(expr({"bytesValue": base64.b64encode(b"\x00\x01").decode()})) == b"\x00\x01"


def test_array_and_dictionary_nodes_evaluate_their_items(engine):
    node = {"arrayValue": {"values": [const(1), invocation("Number.add", left=const(2), right=const(3)),
                                      {"dictionaryValue": {"values": {"k": {"valueReference": "1"}}}}]}}
    assert engine.compute_value(expr(node, **{"1": const("v")})) == [1, 5, {"k": "v"}]


def test_shared_value_is_evaluated_once(engine, monkeypatch):
    calls = []

    def counter(value):
        calls.append(value)
        return value * 10

    monkeypatch.setitem(functions._ALGORITHMS, "Test.counter", functions.Algorithm("Test.counter", counter))
    expression = {
        "result": "0",
        "values": {
            "0": {"arrayValue": {"values": [{"valueReference": "1"}, {"valueReference": "1"},
                                            invocation("Number.add", left={"valueReference": "1"},
                                                       right=const(1))]}},
            "1": invocation("Test.counter", value=const(4)),
        },
    }
    assert engine.compute_value(expression) == [40, 40, 41]
    assert calls == [4]


def test_client_expression_with_shared_values(ee_sandbox, engine):
    ee = ee_sandbox
    point = ee.Geometry.Point([1, 2])
    both = ee.List([point.coordinates(), point.coordinates().get(0)])
    encoded = encode(both)
    assert any("valueReference" in str(v) for v in encoded["values"].values())
    assert engine.compute_value(encoded) == [[1, 2], 1]


# ---------------------------------------------------------------------------------- closures


def test_map_closure_over_client_list(ee_sandbox, engine):
    ee = ee_sandbox
    squares = ee.List([1, 2, 3]).map(lambda x: ee.Number(x).multiply(x))
    encoded = encode(squares)
    assert "functionDefinitionValue" in str(encoded)
    assert engine.compute_value(encoded) == [1, 4, 9]
    assert squares.getInfo() == [1, 4, 9]


def test_nested_closures_see_outer_arguments(ee_sandbox):
    ee = ee_sandbox
    table = ee.List([1, 2]).map(lambda a: ee.List([10, 20]).map(lambda b: ee.Number(a).add(b)))
    assert table.getInfo() == [[11, 21], [12, 22]]


def test_per_call_values_are_not_shared_between_calls(ee_sandbox):
    """A shared sub-value inside a closure body depends on the argument: evaluated per call."""
    ee = ee_sandbox
    out = ee.List([1, 2, 3]).map(lambda x: ee.List([ee.Number(x).add(1), ee.Number(x).add(1)]))
    assert out.getInfo() == [[2, 2], [3, 3], [4, 4]]


def test_collection_map_closure_sets_properties(ee_sandbox):
    ee = ee_sandbox
    fc = ee.FeatureCollection([ee.Feature(None, {"v": i}) for i in range(4)])
    doubled = fc.map(lambda f: f.set("w", ee.Number(f.get("v")).multiply(2)))
    assert doubled.aggregate_array("w").getInfo() == [0, 2, 4, 6]
    # ids survive the map, as on Earth Engine
    assert [f["id"] for f in doubled.getInfo()["features"]] == ["0", "1", "2", "3"]


def test_function_reference_invocation(engine):
    expression = {
        "result": "0",
        "values": {
            "0": {"functionInvocationValue": {"functionReference": "1", "arguments": {"x": const(4)}}},
            "1": {"functionDefinitionValue": {"argumentNames": ["x"], "body": "2"}},
            "2": invocation("Number.multiply", left={"argumentReference": "x"}, right=const(3)),
        },
    }
    assert engine.compute_value(expression) == 12


def test_lazy_if_evaluates_only_the_chosen_branch(ee_sandbox, engine):
    ee = ee_sandbox
    value = ee.Algorithms.If(ee.Number(1).eq(1), "yes", ee.Image(1).convolve(ee.Kernel.square(1)))
    assert engine.compute_value(encode(value)) == "yes"
    value = ee.Algorithms.If(0, "yes", "no")
    assert value.getInfo() == "no"


# ---------------------------------------------------------------------------------- errors


def test_unsupported_algorithm_is_a_400_naming_it(ee_sandbox, engine):
    ee = ee_sandbox
    image = ee.Image("SANDBOX/DEM").convolve(ee.Kernel.square(1))
    with pytest.raises(EEError) as info:
        engine.compute_value(encode(image))
    assert info.value.code == 400
    assert info.value.message == "Unsupported algorithm in sandbox: Image.convolve"
    with pytest.raises(ee.EEException, match="Unsupported algorithm in sandbox: Image.convolve"):
        image.getInfo()


@pytest.mark.parametrize("expression, text", [
    ({}, "expected an object with 'result' and 'values'"),
    ({"result": "0", "values": {}}, "result '0' is not among its values"),
    ({"result": "0", "values": {"0": {"valueReference": "7"}}}, "unknown value reference '7'"),
    ({"result": "0", "values": {"0": {"bogusValue": 1}}}, "cannot interpret value node"),
    ({"result": "0", "values": {"0": {"constantValue": 1, "integerValue": "1"}}}, "cannot interpret value node"),
    ({"result": "0", "values": {"0": {"argumentReference": "x"}}}, "argument 'x' used outside a function"),
    ({"result": "0", "values": {"0": {"valueReference": "0"}}}, "refers to itself"),
    ({"result": "0", "values": {"0": {"functionInvocationValue": {"arguments": {}}}}}, "without functionName"),
    ({"result": "0", "values": {"0": {"functionDefinitionValue": {"argumentNames": ["x"], "body": "9"}}}},
     "bad functionDefinitionValue"),
    ({"result": "0", "values": {"0": {"arrayValue": {"values": 3}}}}, "arrayValue needs a list"),
])
def test_malformed_expressions_are_400(engine, expression, text):
    with pytest.raises(EEError) as info:
        engine.compute_value(expression)
    assert info.value.code == 400
    assert info.value.status == "INVALID_ARGUMENT"
    assert text in info.value.message


def test_wrong_arguments_are_400(engine):
    with pytest.raises(EEError, match=r"Required argument \(right\) missing to function: Number.add"):
        engine.compute_value(expr(invocation("Number.add", left=const(1))))
    with pytest.raises(EEError, match=r"Unrecognized argument \(bogus\) to function: Number.add"):
        engine.compute_value(expr(invocation("Number.add", left=const(1), right=const(2), bogus=const(3))))


def test_returning_a_function_is_400(engine):
    expression = expr({"functionDefinitionValue": {"argumentNames": ["x"], "body": "1"}},
                      **{"1": {"argumentReference": "x"}})
    with pytest.raises(EEError, match="function cannot be returned"):
        engine.compute_value(expression)


# ---------------------------------------------------------------------------- plain values


def test_numbers_strings_lists_dictionaries(ee_sandbox):
    ee = ee_sandbox
    assert ee.Number(7).divide(2).getInfo() == 3.5
    assert ee.Number(6).divide(3).getInfo() == 2
    assert ee.Number(2).pow(10).subtract(24).getInfo() == 1000
    assert ee.String("ab").cat("cd").length().getInfo() == 4
    assert ee.List([3, 1, 2]).sort().reverse().getInfo() == [3, 2, 1]
    assert ee.List.sequence(0, 10, 5).getInfo() == [0, 5, 10]
    assert ee.List([1, 2, 3]).get(-1).getInfo() == 3
    d = ee.Dictionary({"b": 2, "a": 1})
    assert d.keys().getInfo() == ["a", "b"]
    assert d.get("b").getInfo() == 2
    assert d.get("zz", 5).getInfo() == 5
    assert ee.List([1, 2, 3, 4]).reduce(ee.Reducer.median()).getInfo() == 2.5
    assert ee.List([1, 2, 3, 4]).reduce(ee.Reducer.stdDev()).getInfo() == pytest.approx(1.118033988749895)


def test_dates(ee_sandbox):
    ee = ee_sandbox
    assert ee.Date("2020-01-01").getInfo() == {"type": "Date", "value": 1577836800000}
    assert ee.Date("2020-01-31").advance(1, "month").millis().getInfo() == 1582934400000  # 2020-02-29
    assert ee.Date.fromYMD(2019, 12, 31).advance(1, "day").format("yyyy-MM-dd").getInfo() == "2020-01-01"
    assert ee.Date("2020-03-01").difference(ee.Date("2020-02-01"), "day").getInfo() == 29
    assert ee.DateRange("2020-01-01", "2020-01-02").getInfo() == {
        "type": "DateRange", "dates": [1577836800000, 1577923200000]}
    assert ee.Date("2020-01-01T12:30:00+02:00").millis().getInfo() == 1577874600000
    assert ee.Date("2020-03-01").difference(ee.Date("2020-02-01"), "month").getInfo() == 1
    assert ee.Date("2020-03-16").difference(ee.Date("2020-02-01"), "month").getInfo() == pytest.approx(1 + 15 / 31)
    assert ee.Date("2021-02-01").difference(ee.Date("2020-02-01"), "year").getInfo() == 1
    assert ee.Date("2020-02-01").difference(ee.Date("2020-03-01"), "month").getInfo() == -1
    assert ee.Date(1577874600123).format("yyyy-MM-dd'T'HH:mm:ss.SSS").getInfo() == "2020-01-01T10:30:00.123"
    assert ee.Date("2020-02-03").format("DDD").getInfo() == "034"
    with pytest.raises(ee.EEException, match="'MMM' are not supported"):
        ee.Date("2020-02-03").format("dd MMM yyyy").getInfo()


def test_element_properties(ee_sandbox):
    ee = ee_sandbox
    f = ee.Feature(None, {"a": 1}).set("b", "x").setMulti({"c": [1, 2]})
    assert f.getInfo() == {"type": "Feature", "geometry": None, "properties": {"a": 1, "b": "x", "c": [1, 2]}}
    assert f.get("b").getInfo() == "x"
    assert f.propertyNames().getInfo() == ["a", "b", "c"]
    assert f.toDictionary(["a", "c"]).getInfo() == {"a": 1, "c": [1, 2]}


# ------------------------------------------------------------------------------ engine bits


def test_algorithm_list_covers_the_client_and_the_sandbox(engine):
    signatures = engine.algorithms()
    names = {s["name"] for s in signatures}
    assert len(signatures) >= 991
    assert "algorithms/Image.convolve" in names  # buildable by the client, answered with a 400
    for implemented in functions.implemented():
        assert f"algorithms/{implemented}" in names
    by_name = {s["name"]: s for s in signatures}
    reduce_region = by_name["algorithms/Image.reduceRegion"]
    assert [a["argumentName"] for a in reduce_region["arguments"]][:3] == ["image", "reducer", "geometry"]


def test_asset_names():
    assert asset_id_to_name("SANDBOX/DEM") == "projects/earthengine-public/assets/SANDBOX/DEM"
    assert asset_id_to_name("users/x/y") == "projects/earthengine-legacy/assets/users/x/y"
    assert asset_id_to_name("projects/sandbox/assets/f") == "projects/sandbox/assets/f"
    assert asset_name_to_id("projects/earthengine-public/assets/SANDBOX/DEM") == "SANDBOX/DEM"
    assert asset_name_to_id("projects/earthengine-legacy/assets/users/x/y") == "users/x/y"
    assert asset_name_to_id("projects/sandbox/assets/f") == "projects/sandbox/assets/f"


def test_unbounded_collection_listing_fails_as_earth_engine(ee_sandbox):
    ee = ee_sandbox
    small = Engine(SandboxConfig(max_collection_elements=50))
    with pytest.raises(EEError, match=r"^Collection query aborted after accumulating over 50 elements.$"):
        small.compute_value(encode(ee.ImageCollection("SANDBOX/S2_SR")))
    with pytest.raises(EEError, match="accumulating over 50 elements"):
        small.compute_value(encode(ee.FeatureCollection("SANDBOX/REGIONS")))
    # Counting, limiting and filtering do not accumulate.
    assert small.compute_value(encode(ee.FeatureCollection("SANDBOX/REGIONS").size())) > 50
    assert len(small.compute_value(encode(ee.FeatureCollection("SANDBOX/REGIONS").limit(50)))["features"]) == 50
    # Through the client, on the default limit (5,000), a filtered collection lists.
    narrow = ee.ImageCollection("SANDBOX/S2_SR").filterDate("2020-06-01", "2020-06-06").filterBounds(
        ee.Geometry.Point([2.35, 48.85]))
    info = narrow.getInfo()
    assert info["type"] == "ImageCollection"
    assert info["bands"] == []
    assert len(info["features"]) == narrow.size().getInfo() >= 1
    assert all(f["type"] == "Image" for f in info["features"])


def test_closures_keep_their_context_after_the_evaluation(ee_sandbox):
    """A lazily mapped collection evaluated later (as exports do, in another thread) still sees
    the engine's catalog and settings."""
    import threading

    from eeextract_plugin.sandbox.evaluator import current_context

    ee = ee_sandbox
    small = Engine(SandboxConfig(max_collection_elements=123))
    fc = ee.FeatureCollection([ee.Feature(None, {"v": 1})]).map(
        lambda f: f.set("n", ee.FeatureCollection("SANDBOX/REGIONS").size()))
    mapped = small.evaluate(encode(fc))  # returns before any element is computed
    seen = {}

    def later():
        element = mapped.first()
        seen["n"] = element.get("n")
        seen["limit"] = current_context().config.max_collection_elements

    worker = threading.Thread(target=later)
    worker.start()
    worker.join()
    assert seen == {"n": 335, "limit": SandboxConfig().max_collection_elements}


def test_model_algorithms_take_earth_engines_arguments(engine):
    """Every algorithm of the value model is one Earth Engine lists, and accepts every argument
    name the client may send for it (else the client's call would be a 400)."""
    import inspect
    import json
    from pathlib import Path

    import ee

    fixture = json.loads((Path(ee.__file__).parent / "tests" / "algorithms.json").read_text())
    signatures = {a["name"].split("/", 1)[1]: a for a in fixture["algorithms"]}
    for name, impl in functions.implemented().items():
        if not impl.function.__module__.startswith("eeextract_plugin.sandbox.model"):
            continue
        assert name in signatures, name
        accepted = set(inspect.signature(impl.function).parameters)
        sent = {a["argumentName"] for a in signatures[name].get("arguments", [])}
        assert sent <= accepted, (name, sent - accepted)


def test_deeply_nested_expression_is_400_not_a_crash(engine):
    values = {str(i): invocation("Number.add", left={"valueReference": str(i + 1)}, right=const(1))
              for i in range(5000)}
    values["5000"] = const(0)
    with pytest.raises(EEError, match="too deeply nested"):
        engine.compute_value({"result": "0", "values": values})
    shallow = {str(i): invocation("Number.add", left={"valueReference": str(i + 1)}, right=const(1))
               for i in range(100)}
    shallow["100"] = const(0)
    assert engine.compute_value({"result": "0", "values": shallow}) == 100


def test_endless_scans_time_out_like_earth_engine(ee_sandbox):
    """A filter the collection cannot push down scans every element: past the deadline the
    request fails with Earth Engine's "Computation timed out." instead of holding a thread."""
    from dataclasses import replace

    ee = ee_sandbox
    engine = Engine(SandboxConfig())
    engine.config = replace(engine.config)
    engine.config.max_computation_seconds = 0.5  # type: ignore[attr-defined]
    scan = ee.ImageCollection("SANDBOX/S2_SR").filter(ee.Filter.lt("CLOUDY_PIXEL_PERCENTAGE", -1)).size()
    with pytest.raises(EEError, match=r"^Computation timed out.$"):
        engine.compute_value(encode(scan))
