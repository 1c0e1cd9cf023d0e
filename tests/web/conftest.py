"""Web fixtures: the app over a test engine, a client, and signing in.

Everyone in the small tree (tests/fixtures/org.py) gets the password
``PASSWORD``; the hash is computed once per session and written directly,
since scrypt is slow on purpose.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from engine import Engine, passwords
from engine.models import Person
from tests.fixtures.org import build_tree
from web import create_app

PASSWORD = "duban-2026"


@lru_cache(maxsize=1)
def password_hash() -> str:
    return passwords.hash_password(PASSWORD)


def give_everyone_the_password(eng: Engine) -> None:
    with eng.sessions() as session:
        session.execute(update(Person).values(password_hash=password_hash()))
        session.commit()


@pytest.fixture
def world(eng: Engine) -> Engine:
    """The engine with the small tree; everyone may sign in with PASSWORD."""
    build_tree(eng)
    give_everyone_the_password(eng)
    return eng


@pytest.fixture
def app(world: Engine) -> Iterator[Flask]:
    app = create_app({"ENGINE": world, "TESTING": True, "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": "test-secret"})
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Auth:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, username: str, password: str = PASSWORD) -> Any:
        response = self.client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def logout(self) -> Any:
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


def as_user(app: Flask, username: str) -> FlaskClient:
    """A fresh client signed in as *username* (for two people in one test)."""
    client = app.test_client()
    Auth(client).login(username)
    return client
