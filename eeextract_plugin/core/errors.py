"""The project's errors: one base, one "bad input", one "cancelled".

Every error the engine raises on purpose derives from :class:`EEExtractError`, so a front end
needs one ``except`` to tell the engine's known errors from a bug. Each front end maps them to its
own words: the command line to an exit code and a line naming spec fields, Processing to a
``QgsProcessingException`` naming its parameters, the dock to a message naming its labels.

- :class:`BadInput` — the job cannot start: the spec, the region, the source, the output folder.
  ``field`` is the spec field at fault (``"output.overwrite"``, ``"source.asset_id"``…) when there
  is one, ``reason`` the message without it; ``str()`` is ``"<field>: <reason>"``. A front end
  shows ``reason`` under its own name for ``field``.
- :class:`Cancelled` — the user (or ``eeextract cancel``) stopped the work; what is done is kept.
- :class:`JobNotFound`, :class:`JobAborted`, :class:`SessionError` (Earth Engine could not be
  reached or initialised), :class:`DiskFullError`, :class:`RegistryError` (a damaged or
  unusable job registry).

This module is at the bottom of the core: it imports nothing of the project.
"""

from __future__ import annotations

from typing import Optional


class EEExtractError(Exception):
    """Base of the errors the engine raises on purpose (anything else is a bug)."""


class BadInput(EEExtractError, ValueError):  # noqa: N818 - the front ends catch it by this name
    """The job cannot start: one line naming the problem (the spec field when there is one)."""

    def __init__(self, message: str = "", field: Optional[str] = None, reason: Optional[str] = None) -> None:
        if field is None and reason is None:
            field, reason = _split_field(message)
        self.field = field
        self.reason = reason if reason is not None else message
        text = message or (f"{field}: {self.reason}" if field else self.reason)
        super().__init__(text)


def _split_field(message: str) -> tuple[Optional[str], str]:
    """``"grid.scale: must be > 0"`` → ``("grid.scale", "must be > 0")``; no field → ``(None, msg)``."""
    head, sep, rest = message.partition(": ")
    if sep and head and all(part.replace("_", "").replace("[", "").replace("]", "").isalnum()
                            for part in head.split(".")) and " " not in head:
        return head, rest
    return None, message


class Cancelled(EEExtractError):  # noqa: N818 - a request, not a failure
    """The work was cancelled; what is done is kept and a resume finishes it."""


class JobNotFound(EEExtractError, KeyError):  # noqa: N818
    """No job with this id (or id prefix) in the registry."""

    def __str__(self) -> str:
        return f"no job {self.args[0]!r} in the registry" if self.args else "no such job"


class JobAborted(EEExtractError):  # noqa: N818
    """The job cannot go on (a request Earth Engine refuses every time, a bug in a unit)."""


class DiskFullError(EEExtractError, OSError):
    """No space left on the device holding the staging files, the outputs or the registry."""


class RegistryError(EEExtractError):
    """The job registry (``registry.sqlite``) cannot be used — damaged, not a database, a folder,
    read-only — or a record in it is unreadable. The message says what to do; the file is never
    overwritten or "repaired" behind the user's back."""


class SessionError(EEExtractError):
    """Earth Engine could not be reached or initialised (no credentials, bad key file,
    unreachable URL, unknown project)."""


__all__ = ["EEExtractError", "BadInput", "Cancelled", "JobNotFound", "JobAborted", "SessionError",
           "DiskFullError", "RegistryError"]
