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
| BACKTRIAGE_EMERGENCY_NUMBERS | (none) | JSON, locale -> number (`{"es-MX": "911"}`): emergency_number_for |
| BACKTRIAGE_LANG | en | the language people read when they choose none (en, es; a region may follow: es-MX) |
| BACKTRIAGE_TRUSTED_PROXIES | (none) | proxies (addresses) whose `Forwarded: proto=https` is believed |
| BACKTRIAGE_CACHE_DIR | ~/.cache/backtriage | computed data kept between runs (cache.py); "off": none |
| BACKTRIAGE_PUBLIC_URL | (none) | the address EHRs use for this server (JWT `aud`, SMART redirect) |
| BACKTRIAGE_CDS_ISSUERS | (none) | trusted EHRs for CDS Hooks, JSON: `[{"iss": ..., "jku": ...}]` |
| BACKTRIAGE_CDS_TOKEN_MAX_AGE | 300 | seconds since a CDS Hooks JWT's `iat` before it is refused as stale |
| BACKTRIAGE_SMART_ISSUERS | (none) | FHIR base URLs (comma-separated) that may launch the page |
| BACKTRIAGE_SMART_CLIENT_ID | backtriage | the page's client id at the EHR's authorisation server |
| BACKTRIAGE_FRAME_ANCESTORS | (none) | origins (comma-separated) that may show the page in a frame |
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from backtriage.errors import InvalidInputError

__all__ = ["DEFAULT_EMERGENCY_NUMBER", "Settings", "TrustedIssuer", "default_database_url"]

#: The knowledge base follows UK pathways; deployments elsewhere set their own number.
DEFAULT_EMERGENCY_NUMBER = "999"
_NUMBER = r"^\+?[0-9][0-9 -]{1,14}$"
#: A language, and a region when one is given: en, es, es-MX, es-419.
_LOCALE = r"^[a-z]{2,3}(-([A-Z]{2}|[0-9]{3}))?$"
_PREFIX = "BACKTRIAGE_"


def default_database_url() -> str:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    folder = base / "backtriage"
    return f"sqlite:///{folder / 'backtriage.db'}"


class TrustedIssuer(BaseModel):
    """An EHR whose CDS Hooks calls are believed: its JWT `iss`, and where its public keys are
    (`jku`, the JWKS URL its tokens may name, or `jwks_file`, keys exchanged out of band)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    iss: str = Field(min_length=1)
    jku: str | None = Field(default=None, pattern=r"^https?://")
    jwks_file: Path | None = None
    #: The FHIR server this EHR's `fhirAuthorization` tokens may be sent to (none: never fetch).
    fhir_server: str | None = Field(default=None, pattern=r"^https?://")

    @model_validator(mode="after")
    def _one_key_source(self) -> TrustedIssuer:
        if (self.jku is None) == (self.jwks_file is None):
            raise ValueError("give exactly one of jku and jwks_file")
        return self


def _env(name: str, field: str) -> AliasChoices:
    """Read from BACKTRIAGE_<name>, or given by its field name in code."""
    return AliasChoices(_PREFIX + name, field)


class Settings(BaseSettings):
    """Every variable has one declared type; booleans take what people write (on/off, yes/no,
    true/false, 1/0); an empty variable means its default."""

    model_config = SettingsConfigDict(
        env_prefix=_PREFIX, env_ignore_empty=True, frozen=True, populate_by_name=True, extra="ignore"
    )

    database_url: str = Field(default_factory=default_database_url)
    retention_days: int = Field(default=365, ge=1)
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    rate_limit_per_minute: int = Field(
        default=600, ge=1, validation_alias=_env("RATE_LIMIT", "rate_limit_per_minute")
    )
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    require_api_key: bool = True
    read_timeout_seconds: float = Field(
        default=10.0, gt=0, le=600, validation_alias=_env("READ_TIMEOUT", "read_timeout_seconds")
    )
    work_threads: int = Field(default=2, ge=1, le=64)
    store_text: bool = True
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    emergency_number: str = Field(default=DEFAULT_EMERGENCY_NUMBER, pattern=_NUMBER)
    emergency_numbers: dict[str, str] = Field(default_factory=dict)
    language: str = Field(default="en", pattern=_LOCALE, validation_alias=_env("LANG", "language"))
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s?#]+[^/\s?#]$")
    cds_issuers: tuple[TrustedIssuer, ...] = ()
    cds_token_max_age: int = Field(default=300, ge=10, le=3600)
    smart_issuers: Annotated[tuple[str, ...], NoDecode] = ()
    smart_client_id: str = Field(default="backtriage", min_length=1, max_length=200)
    frame_ancestors: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("cors_origins", "trusted_proxies", "smart_issuers", "frame_ancestors", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    @field_validator("emergency_number", mode="before")
    @classmethod
    def _trimmed(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("language", mode="before")
    @classmethod
    def _locale(cls, value: Any) -> Any:
        return _locale_tag(value) if isinstance(value, str) else value

    @field_validator("emergency_numbers", mode="after")
    @classmethod
    def _numbers_by_locale(cls, value: dict[str, str]) -> dict[str, str]:
        numbers = {}
        for tag, number in value.items():
            locale, number = _locale_tag(tag), number.strip()
            if not re.fullmatch(_LOCALE, locale):
                raise ValueError(f"'{tag[:20]}' is not a locale such as es or es-MX")
            if not re.fullmatch(_NUMBER, number):
                raise ValueError(f"the number for {locale} is not a telephone number")
            numbers[locale] = number
        return numbers

    def emergency_number_for(self, language: str, region: str | None = None) -> str:
        """The number to call for a person reading `language` in `region` (when known).

        The number belongs to where the person is, not to the language they read, so a service
        used in one country sets only BACKTRIAGE_EMERGENCY_NUMBER, and every language tells people
        that number. A service used in several countries maps locales to numbers
        (BACKTRIAGE_EMERGENCY_NUMBERS); then the explicit entry wins, most specific first: the
        language with its region (es-MX), then the language alone (es), then
        BACKTRIAGE_EMERGENCY_NUMBER for everyone else.
        """
        if region and (number := self.emergency_numbers.get(f"{language}-{region}")):
            return number
        return self.emergency_numbers.get(language) or self.emergency_number

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """The settings from the environment, with `overrides` winning; a bad value is an
        InvalidInputError that names the variable (the CLI exits 2 with it)."""
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidInputError(f"{_variable(first['loc'])}: {first['msg']}") from None


def _locale_tag(tag: str) -> str:
    """A locale as written here: es, es-MX (from " ES_mx ")."""
    language, _, region = tag.strip().replace("_", "-").partition("-")
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable a validation error is about."""
    if not loc:
        return "a setting"
    name = str(loc[0])
    if name.startswith(_PREFIX):
        return name
    field = Settings.model_fields.get(name)
    alias = field.validation_alias if field else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return _PREFIX + name.upper()
