"""Settings, read from the environment once when the app is built (never at import)."""

import secrets

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.auth.principal import Role

#: Rate-limit policies: one per role, and `anonymous`, which also applies to any role left out.
RATE_LIMIT_POLICIES = ("anonymous", *(r.value for r in Role))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    mongodb_uri: str = Field(
        default="mongodb://127.0.0.1:27017/",
        description="MongoDB (or FerretDB) connection string.",
    )
    database: str = Field(default="silkroad", description="Database name.")
    db_timeout_ms: int = Field(
        default=1000,
        description="Server selection and connect timeout: with the database down, requests "
        "answer 503 after about this long instead of the driver's 30 s default.",
    )
    db_query_timeout_ms: int = Field(
        default=1000,
        ge=1,
        description="Time limit of every database operation, retries included (the driver's "
        "timeoutMS; the server gets maxTimeMS of what is left, so work nobody waits for "
        "stops). A hung or dead database answers 503 after about this long. It must exceed "
        "the slowest legitimate query: raise it for collections of about 100,000 records, "
        "whose facets and statistics take over 2 s on FerretDB.",
    )
    db_write_timeout_ms: int = Field(
        default=5000,
        ge=1,
        description="Database time of one write request, all its operations together "
        "(writes wait on shared documents under a burst, so they get more than a read).",
    )
    db_bulk_timeout_ms: int = Field(
        default=30_000, ge=1, description="Database time of one `/bulk` request."
    )
    db_pool_size: int = Field(default=50)
    db_heavy_reads: int = Field(
        default=4,
        ge=1,
        description="Lists, searches, facets, statistics and timelines one process lets into "
        "the database at once; more wait, then are shed (503 with Retry-After).",
    )
    db_heavy_read_wait_ms: int = Field(
        default=250,
        ge=0,
        description="How long a heavy read may wait for a place before it is shed.",
    )
    bootstrap_admin_key: str | None = Field(
        default=None, description="When set, an admin key with this secret exists after start."
    )
    anonymous_reads: bool = Field(default=True)
    cursor_secret: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="Signs list cursors and change tokens. Set the same value on every instance.",
    )
    change_stale_after_s: float = Field(
        default=5.0, description="A pending change older than this counts as abandoned."
    )
    idempotency_ttl_s: float = Field(
        default=86_400.0, description="How long an idempotency key is kept (at least 24 h)."
    )
    idempotency_abandon_after_s: float = Field(
        default=120.0,
        description="A key still in flight after this long counts as abandoned (its request "
        "died) and may be claimed again.",
    )
    max_body_bytes: int = Field(default=1 << 20, description="Largest body of one request.")
    max_bulk_body_bytes: int = Field(
        default=16 << 20,
        description="Largest body of a bulk upsert (`POST /v1/{collection}/bulk`).",
    )
    json_max_depth: int = Field(default=32, description="Deepest nesting in a JSON body.")
    json_max_array_items: int = Field(default=10_000)
    json_max_object_keys: int = Field(default=1_000)
    json_max_string_chars: int = Field(default=100_000)
    json_max_containers: int = Field(
        default=200_000, description="Most arrays and objects in one JSON body."
    )
    cors_origins: list[str] = Field(
        default=[], description='Origins allowed by CORS, as JSON: `["https://a.example"]`.'
    )
    host: str = Field(
        default="",
        description="The address the service listens on, as given to uvicorn's `--host` "
        "(`make run` sets it from `HOST`, default 127.0.0.1). Only read to decide "
        "`cors_loopback`.",
    )
    cors_loopback: bool | None = Field(
        default=None,
        description="Allow every loopback origin (`http://localhost:<port>`, "
        "`http://127.0.0.1:<port>`, `http://[::1]:<port>`) by CORS. Unset: allowed when "
        "`host` is a loopback address (development), refused otherwise.",
    )
    rate_limit_enabled: bool = Field(default=True)
    rate_limit_window_s: int = Field(default=60, ge=1)
    rate_limits: dict[str, int] = Field(
        default={"anonymous": 600, "reader": 1200, "partner": 1200, "editor": 3000, "admin": 6000},
        description="Requests per window for each role; `anonymous` counts per client address.",
    )
    rate_limit_processes: int = Field(
        default=1,
        ge=1,
        description="Service processes sharing the load; each enforces limit / processes.",
    )
    key_cache_s: float = Field(
        default=0.0,
        ge=0,
        description="How long one process may remember a verified key (0: never). Above 0, "
        "a revoked key keeps working on other processes for up to this long.",
    )
    log_level: str = Field(default="INFO")

    @field_validator("rate_limits")
    @classmethod
    def _every_request_has_a_limit(cls, limits: dict[str, int]) -> dict[str, int]:
        """Checked at start-up: a request without a policy would otherwise fail (a 500)."""
        if "anonymous" not in limits:
            raise ValueError(
                "RATE_LIMITS needs an `anonymous` entry: it limits callers without a key and "
                "every role the setting leaves out"
            )
        unknown = sorted(set(limits) - set(RATE_LIMIT_POLICIES))
        if unknown:
            raise ValueError(
                f"RATE_LIMITS names unknown policies {unknown}; "
                f"use {', '.join(RATE_LIMIT_POLICIES)}"
            )
        if any(n < 1 for n in limits.values()):
            raise ValueError("RATE_LIMITS values must be at least 1 request per window")
        return limits
