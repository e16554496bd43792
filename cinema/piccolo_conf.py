"""Piccolo configuration: the engine from `DATABASE_URL` and the one app."""

from piccolo.conf.apps import AppRegistry

from cinema.config import get_settings
from cinema.db import build_engine

DB = build_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["cinema.piccolo_app"])
