"""Batch exports (the seeds' second path): Export tasks to Cloud Storage or Drive, tracked until
done, parts downloaded and verified, mosaicked into the job's output, zonal statistics run while
the other exports still wait.

- :mod:`.naming` — internal prefixes unique per job, output and attempt; part names.
- :mod:`.tasks` — submitting exports through the real client, sweeping operations, failures.
- :mod:`.parts` — where parts land: Cloud Storage, Drive (API), a mounted Drive folder.
- :mod:`.execution` — the run loop the job runner hands export jobs to.
"""

from eeextract_plugin.core.export.execution import ExportExecution, export_unit_records

__all__ = ["ExportExecution", "export_unit_records"]
