"""Logging: stderr (the shell forwards it to its own log) and a rotating file in `logs/`.

stdout is reserved for the READY line, so nothing here writes to it.
"""

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from sage_sidecar.core.redaction import RedactingFilter

LOG_FILE_NAME = "sidecar.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


# Loggers that print SQL parameters (provider keys among them) at DEBUG. They never go below
# WARNING, whatever SAGE_LOG_LEVEL says.
PARAMETER_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool")


def silence_parameter_logging() -> None:
    for name in PARAMETER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(logs_dir: Path, level: str = "INFO") -> Path:
    log_path = logs_dir / LOG_FILE_NAME
    file_handler = RotatingFileHandler(
        log_path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    stderr_handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(_FORMAT)
    root = logging.getLogger()
    root.handlers.clear()
    for handler in (file_handler, stderr_handler):
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())  # known secrets and credential shapes never logged
        root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's own loggers propagate to ours instead of installing their handlers.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return log_path
