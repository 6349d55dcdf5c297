"""One settings object for everything configurable, read from the environment.

| variable | default | meaning |
|---|---|---|
| BACKTRIAGE_DATABASE_URL | sqlite:///<user data dir>/backtriage.db | audit store (PostgreSQL by URL) |
| BACKTRIAGE_RETENTION_DAYS | 365 | records older than this are deleted by `audit purge` |
| BACKTRIAGE_CORS_ORIGINS | (none) | comma-separated origins allowed to call the API |
| BACKTRIAGE_RATE_LIMIT | 600 | requests per minute per API key (or client, with --no-auth) |
| BACKTRIAGE_REQUIRE_API_KEY | true | false = open local mode (what `serve --no-auth` sets) |
| BACKTRIAGE_MAX_BODY_BYTES | 2097152 | larger bodies get 413 (fits a 100,000-character text) |
| BACKTRIAGE_READ_TIMEOUT | 10 | seconds a request may spend reading text before it gets 503 |
| BACKTRIAGE_WORK_THREADS | 2 | calls worked on at once per server process; the rest queue in order |
| BACKTRIAGE_STORE_TEXT | true | false = what people write is read but never stored (answers are) |
| BACKTRIAGE_EMERGENCY_NUMBER | 999 | the number every emergency message tells people to call (911, 112 ...) |
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backtriage.errors import InvalidInputError

__all__ = ["DEFAULT_EMERGENCY_NUMBER", "Settings", "default_database_url"]

#: The knowledge base follows UK pathways; deployments elsewhere set their own number.
DEFAULT_EMERGENCY_NUMBER = "999"


def default_database_url() -> str:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    folder = base / "backtriage"
    return f"sqlite:///{folder / 'backtriage.db'}"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    database_url: str = Field(default_factory=default_database_url)
    retention_days: int = Field(default=365, ge=1)
    cors_origins: tuple[str, ...] = ()
    rate_limit_per_minute: int = Field(default=600, ge=1)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    require_api_key: bool = True
    read_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    work_threads: int = Field(default=2, ge=1, le=64)
    store_text: bool = True
    emergency_number: str = Field(default=DEFAULT_EMERGENCY_NUMBER, pattern=r"^\+?[0-9][0-9 -]{1,14}$")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {}
        if env.get("BACKTRIAGE_DATABASE_URL"):
            values["database_url"] = env["BACKTRIAGE_DATABASE_URL"]
        if env.get("BACKTRIAGE_RETENTION_DAYS"):
            values["retention_days"] = int(env["BACKTRIAGE_RETENTION_DAYS"])
        if env.get("BACKTRIAGE_CORS_ORIGINS"):
            values["cors_origins"] = tuple(
                o.strip() for o in env["BACKTRIAGE_CORS_ORIGINS"].split(",") if o.strip()
            )
        if env.get("BACKTRIAGE_RATE_LIMIT"):
            values["rate_limit_per_minute"] = int(env["BACKTRIAGE_RATE_LIMIT"])
        if env.get("BACKTRIAGE_REQUIRE_API_KEY"):
            values["require_api_key"] = env["BACKTRIAGE_REQUIRE_API_KEY"].lower() not in ("0", "false", "no")
        if env.get("BACKTRIAGE_MAX_BODY_BYTES"):
            values["max_body_bytes"] = int(env["BACKTRIAGE_MAX_BODY_BYTES"])
        if env.get("BACKTRIAGE_READ_TIMEOUT"):
            values["read_timeout_seconds"] = env["BACKTRIAGE_READ_TIMEOUT"]
        if env.get("BACKTRIAGE_STORE_TEXT"):
            values["store_text"] = env["BACKTRIAGE_STORE_TEXT"].lower() not in ("0", "false", "no")
        if env.get("BACKTRIAGE_WORK_THREADS"):
            values["work_threads"] = env["BACKTRIAGE_WORK_THREADS"]
        if env.get("BACKTRIAGE_EMERGENCY_NUMBER"):
            values["emergency_number"] = env["BACKTRIAGE_EMERGENCY_NUMBER"].strip()
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = "BACKTRIAGE_" + str(first["loc"][0]).upper() if first["loc"] else "a setting"
            raise InvalidInputError(f"{name}: {first['msg']}") from None
