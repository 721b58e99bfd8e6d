"""The Processing provider "EE Extract": every extraction as a toolbox algorithm.

Each algorithm only translates QGIS parameters into the engine's job spec (``core``) and maps the
engine's progress, cancellation and errors onto the Processing feedback. No engine logic here.
"""
