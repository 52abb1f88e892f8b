"""Unbound extensions, bound to an app in create_app: database session, login, CSRF, OAuth, Redis/RQ."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from redis import Redis
from rq import Queue
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker


def sqlalchemy_url(database_url: str) -> str:
    """Use psycopg 3 whatever scheme spelling the environment gives."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


class Database:
    """One engine per app and a request-scoped session, removed at the end of each request."""

    def __init__(self) -> None:
        self.session_factory = sessionmaker(expire_on_commit=False)
        self.session: scoped_session[Session] = scoped_session(self.session_factory)
        self._engine: Engine | None = None

    def init_app(self, app: Flask) -> None:
        self._engine = create_engine(
            sqlalchemy_url(app.config["DATABASE_URL"]),
            pool_pre_ping=True,
            pool_size=app.config.get("DB_POOL_SIZE", 5),
        )
        self.session_factory.configure(bind=self._engine)
        app.teardown_appcontext(lambda exc: self.session.remove())
        app.extensions["database"] = self

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("Database.init_app has not been called")
        return self._engine


class RedisQueues:
    """The app's Redis connection and its RQ queues (rq 2.x+: the connection is always explicit)."""

    def init_app(self, app: Flask) -> None:
        app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"]) if app.config["REDIS_URL"] else None

    @property
    def redis(self) -> Redis:
        connection = current_app.extensions["redis"]
        if connection is None:
            raise RuntimeError("REDIS_URL is not set")
        return connection

    def queue(self, name: str) -> Queue:
        return Queue(queue_name(current_app.config, name), connection=self.redis)


def queue_name(config, name: str) -> str:
    """Queue names carry a prefix so tests and deployments sharing a Redis stay apart."""
    return f"{config['RQ_QUEUE_PREFIX']}-{name}"


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
oauth = OAuth()
queues = RedisQueues()
