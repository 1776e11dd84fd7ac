"""One validated settings object for every function and command.

Settings come from the environment. The composition root (:mod:`scout.deps`) parses them
once per execution environment, and the parse fails closed: a missing ``ALLOWED_HOSTS`` or a
JWT secret that is too short raises ``RuntimeError`` at cold start, so a function never
serves with permissive defaults.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, FilePath, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from scout.egress.allow_list import parse_allow_entry

MIN_SECRET_BYTES = 32

CommaList = Annotated[tuple[str, ...], NoDecode]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    stage: str = Field(default="dev", validation_alias="SCOUT_STAGE")

    # HTTP edge
    allowed_hosts: CommaList = Field(validation_alias="ALLOWED_HOSTS")
    allowed_origins: CommaList = Field(default=(), validation_alias="ALLOWED_ORIGINS")

    # JWT strategies (README.md, Configuration). A missing secret disables its strategy: every token for it
    # is refused. A present but short secret is a misconfiguration and fails the cold start.
    supabase_jwt_secret: SecretStr | None = Field(default=None, validation_alias="SUPABASE_JWT_SECRET")
    admin_session_secret: SecretStr | None = Field(default=None, validation_alias="ADMIN_SESSION_SECRET")
    service_token_secret: SecretStr | None = Field(default=None, validation_alias="SERVICE_TOKEN_SECRET")
    user_token_issuer: str | None = Field(default=None, validation_alias="USER_TOKEN_ISSUER")
    admin_token_issuer: str = Field(default="scout-admin", validation_alias="ADMIN_TOKEN_ISSUER")
    service_token_issuer: str = Field(default="scout-service", validation_alias="SERVICE_TOKEN_ISSUER")
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=60, validation_alias="JWT_LEEWAY_SECONDS")
    # Where the project publishes the public keys of its asymmetric signing keys; unset means
    # Supabase's own path under SUPABASE_URL (see jwks_url).
    supabase_jwks_url: str | None = Field(default=None, validation_alias="SUPABASE_JWKS_URL")
    # Supabase anonymous sign-ins yield role "authenticated" with is_anonymous true: refused
    # unless the product wants such users to scan.
    allow_anonymous_users: bool = Field(default=False, validation_alias="ALLOW_ANONYMOUS_USERS")

    # Egress (SSRF) policy: the only way to let a non-global address through.
    egress_allow: CommaList = Field(default=(), validation_alias="SCOUT_EGRESS_ALLOW")

    # Storage (docs/storage.md)
    store: Literal["postgres", "supabase"] = Field(default="postgres", validation_alias="SCOUT_STORE")
    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    supabase_url: str | None = Field(default=None, validation_alias="SUPABASE_URL")
    # The store's credential: the project's secret API key (sb_secret_...), or the legacy
    # service_role JWT for projects that have not moved to the new API keys.
    supabase_secret_key: SecretStr | None = Field(default=None, validation_alias="SUPABASE_SECRET_KEY")
    supabase_service_role_key: SecretStr | None = Field(
        default=None, validation_alias="SUPABASE_SERVICE_ROLE_KEY"
    )

    # AWS resources (names come from template.yaml)
    scan_queue_url: str | None = Field(default=None, validation_alias="SCAN_QUEUE_URL")
    poll_queue_url: str | None = Field(default=None, validation_alias="POLL_QUEUE_URL")
    reports_bucket: str | None = Field(default=None, validation_alias="REPORTS_BUCKET")
    # Monitors' webhook events (docs/monitors.md, "Webhooks"): the delivery queue, and how
    # long one POST to a receiver may take.
    webhook_queue_url: str | None = Field(default=None, validation_alias="WEBHOOK_QUEUE_URL")
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=30, validation_alias="WEBHOOK_TIMEOUT_SECONDS"
    )
    # The wait before a failed event's first retry (then doubling to an hour); tests shorten it.
    webhook_first_retry_seconds: float = Field(
        default=30.0, ge=1, le=3600, validation_alias="WEBHOOK_FIRST_RETRY_SECONDS"
    )
    # A PEM file of CA certificates the webhook sender trusts on top of the default ones, for
    # receivers behind a private CA (certificates are always verified).
    webhook_ca_bundle: FilePath | None = Field(default=None, validation_alias="WEBHOOK_CA_BUNDLE")

    # Polling job boards. A poll (fetch + sync) of one source must finish within the deadline;
    # a claimed source is leased for POLL_LEASE_SECONDS so it is not enqueued again meanwhile.
    poll_deadline_seconds: float = Field(default=60.0, gt=0, le=900, validation_alias="POLL_DEADLINE_SECONDS")
    poll_lease_seconds: int = Field(default=3600, ge=60, le=86400, validation_alias="POLL_LEASE_SECONDS")

    # Audit API and scan worker. A user may create SCAN_RATE_LIMIT scans per window.
    scan_rate_limit: int = Field(default=20, ge=1, le=10_000, validation_alias="SCAN_RATE_LIMIT")
    scan_rate_window_seconds: int = Field(
        default=3600, ge=1, le=7 * 86400, validation_alias="SCAN_RATE_WINDOW_SECONDS"
    )
    # How long a presigned artifact link works (SigV4 allows at most 7 days).
    artifact_link_seconds: int = Field(
        default=900, ge=1, le=604_800, validation_alias="ARTIFACT_LINK_SECONDS"
    )
    # Attempts before a scan that keeps failing for scout's own reasons is failed for good;
    # keep it below the scan queue's maxReceiveCount so the scan ends before the message
    # would go to the dead-letter queue.
    scan_max_attempts: int = Field(default=4, ge=1, le=100, validation_alias="SCAN_MAX_ATTEMPTS")
    # The scan worker function's Timeout (template.yaml): POST /scans refuses more Lighthouse
    # runs than one attempt of that length can hold.
    scan_worker_timeout_seconds: int = Field(
        default=900, ge=30, le=900, validation_alias="SCAN_WORKER_TIMEOUT_SECONDS"
    )

    # ATS base URLs: scheme and host only; adapters add the documented paths.
    greenhouse_api_url: str = Field(
        default="https://boards-api.greenhouse.io", validation_alias="GREENHOUSE_API_URL"
    )
    lever_api_url: str = Field(default="https://api.lever.co", validation_alias="LEVER_API_URL")
    lever_eu_api_url: str = Field(default="https://api.eu.lever.co", validation_alias="LEVER_EU_API_URL")
    ashby_api_url: str = Field(default="https://api.ashbyhq.com", validation_alias="ASHBY_API_URL")
    smartrecruiters_api_url: str = Field(
        default="https://api.smartrecruiters.com", validation_alias="SMARTRECRUITERS_API_URL"
    )
    workday_base_url: str | None = Field(default=None, validation_alias="WORKDAY_BASE_URL")

    # Scan engine
    chromium_path: str = Field(default="/usr/bin/chromium", validation_alias="CHROMIUM_PATH")
    browser_idle_seconds: int = Field(default=1800, ge=1, validation_alias="BROWSER_IDLE_SECONDS")
    # The folder holding package.json, node_modules and the Lighthouse worker; unset means
    # the layers/node folder beside this package (the repository and image layout).
    node_dir: str | None = Field(default=None, validation_alias="SCOUT_NODE_DIR")
    node_binary: str = Field(default="node", validation_alias="SCOUT_NODE_BINARY")
    # How long a page may take to fire `load`, in the scan's browser and in Lighthouse's.
    navigation_timeout_seconds: float = Field(
        default=30, gt=0, le=300, validation_alias="SCAN_NAVIGATION_TIMEOUT_SECONDS"
    )
    lighthouse_timeout_seconds: float = Field(
        default=120, gt=0, le=840, validation_alias="LIGHTHOUSE_TIMEOUT_SECONDS"
    )
    # The Lighthouse worker (Node + its Chrome) is replaced after this many runs so that
    # memory it accumulates never grows without bound.
    lighthouse_max_runs: int = Field(default=20, ge=1, le=1000, validation_alias="LIGHTHOUSE_MAX_RUNS")
    screenshot_max_height: int = Field(
        default=6000, ge=100, le=30000, validation_alias="SCREENSHOT_MAX_HEIGHT"
    )

    @field_validator("allowed_hosts", "allowed_origins", "egress_allow", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_required(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("ALLOWED_HOSTS must name at least one host")
        return tuple(host.lower() for host in value)

    @field_validator("egress_allow")
    @classmethod
    def _egress_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # The egress policy's own parser, so a bad entry fails the cold start, not a scan.
        for entry in value:
            parse_allow_entry(entry)
        return tuple(entry.lower() for entry in value)

    @field_validator("supabase_url", "supabase_jwks_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL such as https://<project>.supabase.co")
        return value

    @field_validator("supabase_secret_key")
    @classmethod
    def _secret_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        # A publishable key (or a JWT) here would run the store as a browser would: refuse it.
        if value is not None and not value.get_secret_value().startswith("sb_secret_"):
            raise ValueError("must be the project's secret API key (sb_secret_...)")
        return value

    @model_validator(mode="after")
    def _store_configured(self) -> Settings:
        # DATABASE_URL may be missing: the local runner fills it in (embedded Postgres).
        if self.store == "supabase" and (self.supabase_url is None or self.supabase_store_key is None):
            raise ValueError(
                "SCOUT_STORE=supabase needs SUPABASE_URL and SUPABASE_SECRET_KEY "
                "(or the legacy SUPABASE_SERVICE_ROLE_KEY)"
            )
        return self

    @property
    def jwks_url(self) -> str | None:
        """The JWKS of user tokens: SUPABASE_JWKS_URL, else Supabase's path under SUPABASE_URL."""
        if self.supabase_jwks_url:
            return self.supabase_jwks_url
        if self.supabase_url:
            return f"{self.supabase_url.rstrip('/')}/auth/v1/.well-known/jwks.json"
        return None

    @property
    def supabase_store_key(self) -> SecretStr | None:
        """The ``supabase`` store's API key: the secret key, else the legacy service_role key."""
        return self.supabase_secret_key or self.supabase_service_role_key

    @field_validator("supabase_jwt_secret", "admin_session_secret", "service_token_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes")
        return value


def load_settings() -> Settings:
    """Parse the environment; raise ``RuntimeError`` naming every bad setting."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise RuntimeError(f"invalid scout configuration: {problems}") from None
