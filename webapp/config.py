"""Configuration from environment variables (prefix FF_), with safe production rules."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from workflows.privacy import DEFAULT_RETENTION_DAYS

INSTANCE = Path(os.environ.get("FF_INSTANCE_DIR", Path.cwd() / "instance"))


class ConfigError(RuntimeError):
    pass


def load(overrides: dict | None = None) -> dict:
    """Build the config; production refuses the simulation clock and a missing secret."""
    env = os.environ
    config = {
        "ENV_NAME": env.get("FF_ENV", "production"),
        "DATABASE_URL": env.get("FF_DATABASE_URL", f"sqlite:///{INSTANCE / 'fruehfoerderung.db'}"),
        "SECRET_KEY": env.get("FF_SECRET_KEY"),
        "CLOCK": env.get("FF_CLOCK", "system"),
        "TIMER_POLL_SECONDS": float(env.get("FF_TIMER_POLL_SECONDS", "5")),
        "BPMN_DIR": env.get("FF_BPMN_DIR", str(Path(__file__).resolve().parent.parent / "bpmn")),
        "SMTP_HOST": env.get("FF_SMTP_HOST") or None,
        "SMTP_PORT": int(env.get("FF_SMTP_PORT", "25")),
        "SMTP_FROM": env.get("FF_SMTP_FROM", "fristen@fruehfoerderung.invalid"),
        "SMTP_STARTTLS": env.get("FF_SMTP_STARTTLS", "0") == "1",
        "SMTP_USER": env.get("FF_SMTP_USER") or None,
        "SMTP_PASSWORD": env.get("FF_SMTP_PASSWORD") or None,
        "DIGEST_HOUR": int(env.get("FF_DIGEST_HOUR", "7")),
        # days a closed case is kept before the deletion run removes it (Art. 17 DSGVO, § 84 SGB X);
        # the legal period is for the data protection officer to set
        "RETENTION_DAYS": env.get("FF_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS)),
        # a web session ends after this long without a request, and this long after the login
        # whatever happens (an office day); see webapp/auth/sessions.py
        "SESSION_IDLE_MINUTES": env.get("FF_SESSION_IDLE_MINUTES", "30"),
        "SESSION_MAX_HOURS": env.get("FF_SESSION_MAX_HOURS", "10"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        # largest request (a 10 MB document plus the form); larger ones get a German 413
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # Strict-Transport-Security (browsers use only HTTPS for a year); None: on in production only,
        # so demo and tests stay usable over plain http on localhost
        "HSTS": None,
    }
    config.update(overrides or {})
    if config["HSTS"] is None:
        config["HSTS"] = config["ENV_NAME"] == "production"
    if config["ENV_NAME"] not in ("production", "demo", "test"):
        raise ConfigError(f"FF_ENV muss production, demo oder test sein, nicht {config['ENV_NAME']!r}.")
    try:
        config["RETENTION_DAYS"] = int(config["RETENTION_DAYS"])
    except (TypeError, ValueError):
        config["RETENTION_DAYS"] = 0
    if config["RETENTION_DAYS"] < 1:
        raise ConfigError("FF_RETENTION_DAYS muss eine ganze Zahl von mindestens 1 (Tage) sein.")
    for key, variable in (("SESSION_IDLE_MINUTES", "FF_SESSION_IDLE_MINUTES"),
                          ("SESSION_MAX_HOURS", "FF_SESSION_MAX_HOURS")):
        config[key] = _positive_int(config[key], variable)
    if config["CLOCK"] not in ("system", "simulation"):
        raise ConfigError("FF_CLOCK muss system oder simulation sein.")
    if config["ENV_NAME"] == "production":
        if config["CLOCK"] != "system":
            raise ConfigError("Die Simulationsuhr ist im Produktivbetrieb nicht erlaubt.")
        if not config["SECRET_KEY"]:
            raise ConfigError("Im Produktivbetrieb muss FF_SECRET_KEY gesetzt sein.")
        config["SESSION_COOKIE_SECURE"] = True
    config["SECRET_KEY"] = config["SECRET_KEY"] or secrets.token_hex(32)
    return config


def _positive_int(value, variable: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise ConfigError(f"{variable} muss eine ganze Zahl von mindestens 1 sein.")
    return number
