"""Element: anything with properties (Image, Feature)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class Element:
    def __init__(self, properties: Optional[Dict[str, Any]] = None):
        self.properties: Dict[str, Any] = dict(properties or {})

    def get(self, name: str) -> Any:
        return self.properties.get(name)

    def property_names(self) -> List[str]:
        """What ``propertyNames()`` answers (subclasses add derived system properties)."""
        return list(self.properties.keys())

    def with_properties(self, updates: Dict[str, Any]) -> Element:
        """A copy with ``updates`` merged in (elements are immutable values)."""
        import copy

        clone = copy.copy(self)
        clone.properties = {**self.properties, **updates}
        return clone
