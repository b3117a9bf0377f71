"""Log lines on standard error for `mailadmin serve` and `mailadmin smtpd`: text, or one JSON object per line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from mailadmin.errors import ConfigError
from mailadmin.i18n import t
from mailadmin.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a traceback goes into `exception`, escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                "process": record.process}
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    """Send INFO and above to standard error in the configured format (log.format), once per process."""
    if settings.log.format not in FORMATS:
        raise ConfigError(t("log.format phải là text hoặc json, không phải {value!r}",
                            "log.format must be text or json, not {value!r}", value=settings.log.format))
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings.log.format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
