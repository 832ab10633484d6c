"""Configuration, from the environment (GRANTLEDGER_*) or given to the app factory."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.storage import DEFAULT_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRANTLEDGER_", extra="ignore")

    database_url: str = Field(default=DEFAULT_URL, description="Where the events live")
    read_database_url: str | None = Field(default=None, description="Where the read models live (derived if unset)")
    read_your_writes_timeout: float = Field(default=10.0, description="Seconds a write waits for its projection")
    follow_interval: float = Field(default=0.2, description="Seconds between looks for events written elsewhere")
    session_idle_minutes: float = Field(default=30.0, gt=0, description="Minutes a web session lasts without a request")
    session_absolute_hours: float = Field(default=12.0, gt=0, description="Hours a web session lasts at most")
