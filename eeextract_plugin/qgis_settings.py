"""Connection settings, kept in QgsSettings; the service-account key kept in QGIS's auth database.

Only plain, non-secret values go to QgsSettings (and so to ``QGIS3.ini``): the way to connect,
the Cloud project, the URL, concurrency, folders. A service-account key file's JSON is stored in
QGIS's authentication database (encrypted with the user's master password) as a "Basic" config
whose password is the key; QgsSettings keeps only that config's id. Nothing here logs a secret,
and nothing here is written to project files.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Dict, Optional

from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsSettings

from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.core.spec import (  # the core's one rule
    DEFAULT_CONCURRENCY,
    DEFAULT_REQUESTS_PER_SECOND,
    EXECUTION_ENGINES,
    Execution,
)
from eeextract_plugin.i18n import tr

log = logging.getLogger(__name__)

SETTINGS_PREFIX = "eeextract"
AUTH_CONFIG_NAME = "EE Extract service account"  # i18n: not translated (finds the config again)

MODE_PERSISTENT = "persistent"
MODE_SERVICE_ACCOUNT = "service_account"
MODE_SANDBOX = "sandbox"
MODE_CUSTOM_URL = "custom_url"
MODES = (MODE_PERSISTENT, MODE_SERVICE_ACCOUNT, MODE_SANDBOX, MODE_CUSTOM_URL)


def persistent_guidance() -> str:
    return tr(
        "Uses your Google account's Earth Engine credentials: <b>Sign in with Google</b> below (your "
        "browser opens Google's consent page), or those the Earth Engine command line saved "
        "(<code>earthengine authenticate</code>) — the two share one file. The Cloud project must "
        "have the Earth Engine API enabled; <b>Check project</b> makes one call to see that it does.")


class SettingsError(ValueError):
    """A setting is missing or wrong; the message says which and what to do.

    ``field``: the settings dialog's label of the setting at fault ("Cloud project"), when one
    is; the dialog shows ``str(error)`` beside that field, elsewhere :meth:`outside` also says
    where to find it."""

    def __init__(self, reason: str, field: str = "") -> None:
        self.field = field
        self.reason = reason
        super().__init__(tr("{field}: {reason}").format(field=field, reason=reason) if field else reason)

    def outside(self) -> str:
        """The message outside the settings dialog: where the setting is."""
        if not self.field:
            return str(self)
        return tr("{message} (EE Extract settings → {field})").format(message=str(self), field=self.field)


def field_labels() -> Dict[str, str]:
    """The settings dialog's label of each setting that has one, in the user's language (the
    ``execution`` fields of a job spec are made from the settings of the "Jobs" tab)."""
    return {
        "project": tr("Cloud project"),
        "custom_url": tr("URL"),
        "service_account": tr("Key file"),
        "concurrency": tr("Concurrent requests"),
        "requests_per_second": tr("Requests per second"),
        "engine": tr("Run requests on"),
        "dask_scheduler": tr("Dask scheduler"),
        "execution.max_concurrent_requests": tr("Concurrent requests"),
        "execution.requests_per_second": tr("Requests per second"),
        "execution.engine": tr("Run requests on"),
        "execution.request_kind": tr("Run requests on"),
        "execution.dask_scheduler": tr("Dask scheduler"),
    }


def field_label(name: str) -> str:
    return field_labels().get(name, name)


@dataclass
class ConnectionSettings:
    """Everything needed to open an Earth Engine session, without the secret itself."""

    mode: str = MODE_PERSISTENT
    project: str = ""
    custom_url: str = ""
    high_volume: bool = True
    concurrency: int = DEFAULT_CONCURRENCY  # the project's quota (Earth Engine's default 40)
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND  # the project's request-rate quota
    engine: str = "threads"  # where a job's requests run: "threads" (QGIS) or "dask" (a cluster)
    dask_scheduler: str = ""  # engine "dask": tcp://host:8786, local or local:N; "": Dask's own setting
    output_folder: str = ""
    bucket: str = ""
    drive_folder: str = ""
    # id of the QGIS auth config holding the service-account key (never the key itself)
    service_account_authcfg: str = ""
    service_account_email: str = ""

    def validate(self) -> None:
        if self.mode not in MODES:
            raise SettingsError(tr("connection mode: {mode} is not one of {modes}").format(
                mode=repr(self.mode), modes=", ".join(MODES)))
        if self.mode in (MODE_PERSISTENT, MODE_SERVICE_ACCOUNT) and not self.project.strip():
            raise SettingsError(tr("required to use Earth Engine: type your project's ID"),
                                field_label("project"))
        if self.mode == MODE_CUSTOM_URL and not self.custom_url.strip().startswith(("http://", "https://")):
            raise SettingsError(tr("must start with http:// or https://"), field_label("custom_url"))
        if self.mode == MODE_SERVICE_ACCOUNT and not self.service_account_authcfg:
            raise SettingsError(tr("no key stored yet: choose the key file, then Store key"),
                                field_label("service_account"))
        try:  # the job spec's own rules for what these settings put in it
            Execution.from_dict(self.execution_dict())
        except BadInput as exc:
            raise SettingsError(exc.reason, field_label(exc.field or "")) from None

    def execution_dict(self) -> Dict[str, Any]:
        """The ``execution`` section of a job spec these settings make: what differs from the
        core's defaults (a job file stays as short as the user's choices)."""
        execution: Dict[str, Any] = {}
        if int(self.concurrency) != DEFAULT_CONCURRENCY:
            execution["max_concurrent_requests"] = int(self.concurrency)
        if float(self.requests_per_second) != DEFAULT_REQUESTS_PER_SECOND:
            execution["requests_per_second"] = float(self.requests_per_second)
        if self.engine != "threads":
            execution["engine"] = self.engine
            if self.dask_scheduler.strip():
                execution["dask_scheduler"] = self.dask_scheduler.strip()
        return execution

    def effective_project(self) -> str:
        if self.mode in (MODE_SANDBOX,) and not self.project.strip():
            return "sandbox"
        return self.project.strip()


def _key(name: str) -> str:
    return f"{SETTINGS_PREFIX}/{name}"


def derived_credentials(conn: ConnectionSettings) -> str:
    """The ``credentials`` value the Processing provider reads (never a secret itself)."""
    if conn.mode == MODE_SERVICE_ACCOUNT:
        return f"authcfg:{conn.service_account_authcfg}"
    if conn.mode in (MODE_SANDBOX, MODE_CUSTOM_URL):
        return "none"
    return "persistent"


def load_settings(settings: Optional[QgsSettings] = None) -> ConnectionSettings:
    s = settings or QgsSettings()
    values: Dict[str, Any] = {}
    defaults = ConnectionSettings()
    for f in fields(ConnectionSettings):
        default = getattr(defaults, f.name)
        raw = s.value(_key(f.name), default)
        if isinstance(default, bool):
            value: Any = raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1", "yes")
        elif isinstance(default, (int, float)):
            try:
                value = type(default)(raw)
            except (TypeError, ValueError):
                value = default
        else:
            value = "" if raw is None else str(raw)
        values[f.name] = value
    result = ConnectionSettings(**values)
    if result.mode not in MODES:
        result.mode = MODE_PERSISTENT
    if result.engine not in EXECUTION_ENGINES:
        result.engine = "threads"
    return result


def save_settings(conn: ConnectionSettings, settings: Optional[QgsSettings] = None) -> None:
    s = settings or QgsSettings()
    for name, value in asdict(conn).items():
        s.setValue(_key(name), value)
    # Flat keys shared with the Processing provider (processing/connection.py).
    s.setValue(_key("credentials"), derived_credentials(conn))
    if conn.mode == MODE_CUSTOM_URL:
        s.setValue(_key("url"), conn.custom_url.strip())
    elif conn.mode != MODE_SANDBOX:
        s.setValue(_key("url"), "")
    log.info("connection settings saved (mode %s, project %s)", conn.mode, conn.project or "-")


def clear_settings(settings: Optional[QgsSettings] = None) -> None:
    s = settings or QgsSettings()
    for f in fields(ConnectionSettings):
        s.remove(_key(f.name))
    s.remove(_key("credentials"))
    s.remove(_key("url"))


def publish_sandbox_url(url: str, settings: Optional[QgsSettings] = None) -> None:
    """While the embedded sandbox runs, Processing algorithms find it through ``eeextract/url``."""
    (settings or QgsSettings()).setValue(_key("url"), url)


# -- the service-account key in QGIS's authentication database ------------------------------------


def read_key_file(path: str) -> Dict[str, Any]:
    """Parse a service-account key file; raise :class:`SettingsError` naming what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(tr("key file: cannot read {path}: {error}").format(path=path, error=exc.strerror)) from None
    except ValueError:
        raise SettingsError(tr("key file: {path} is not JSON").format(path=path)) from None
    if not isinstance(data, dict) or data.get("type") != "service_account":
        raise SettingsError(tr("key file: {path} is not a service-account key (type must be service_account)").format(
            path=path))
    for needed in ("client_email", "private_key"):
        if not data.get(needed):
            raise SettingsError(tr("key file: {path} has no {field}").format(path=path, field=needed))
    return data


def store_service_account_key(path: str, existing_authcfg: str = "") -> tuple[str, str]:
    """Copy a key file into the auth database; return ``(authcfg id, client e-mail)``.

    Must run on the main thread: the auth manager may ask for the master password.
    """
    key = read_key_file(path)
    manager = QgsApplication.authManager()
    if manager.isDisabled():
        raise SettingsError(tr("QGIS authentication database is disabled; cannot store the key"))
    if not manager.masterPasswordIsSet() and not manager.setMasterPassword(True):
        raise SettingsError(tr("QGIS master password not given; the key was not stored"))
    config = QgsAuthMethodConfig("Basic")
    if existing_authcfg:
        manager.loadAuthenticationConfig(existing_authcfg, config, False)
        if not config.id():
            config = QgsAuthMethodConfig("Basic")
    config.setName(AUTH_CONFIG_NAME)
    config.setMethod("Basic")
    config.setConfig("username", key["client_email"])
    config.setConfig("password", json.dumps(key))
    if config.id():
        ok = manager.updateAuthenticationConfig(config)
    else:
        result = manager.storeAuthenticationConfig(config)
        ok = result[0] if isinstance(result, tuple) else bool(result)
    if not ok or not config.id():
        raise SettingsError(tr("QGIS authentication database refused to store the key"))
    log.info("service-account key for %s stored in the QGIS auth database", key["client_email"])
    return config.id(), key["client_email"]


def load_service_account_key(authcfg: str) -> Dict[str, Any]:
    """The key's JSON as a dict, read from the auth database (main thread)."""
    manager = QgsApplication.authManager()
    config = QgsAuthMethodConfig()
    result = manager.loadAuthenticationConfig(authcfg, config, True)
    ok = result[0] if isinstance(result, tuple) else bool(result)
    password = config.config("password") if ok else ""
    if not password:
        raise SettingsError(tr("service account: the stored key was not found in the QGIS auth database"))
    try:
        return json.loads(password)
    except ValueError:
        raise SettingsError(tr("service account: the stored key is not valid JSON")) from None


def remove_service_account_key(authcfg: str) -> None:
    if authcfg:
        QgsApplication.authManager().removeAuthenticationConfig(authcfg)
