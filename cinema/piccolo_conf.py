"""Piccolo configuration: the engine from `DATABASE_URL` and the one app."""

from piccolo.conf.apps import AppRegistry

from cinema.config import settings_or_exit
from cinema.db import build_engine

DB = build_engine(settings_or_exit().database_url)

APP_REGISTRY = AppRegistry(apps=["cinema.piccolo_app"])
