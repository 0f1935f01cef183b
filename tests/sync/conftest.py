"""A misbehaving feed server on loopback and an HTTP client, for the sync's tests."""

import httpx
import pytest

from .feedserver import FeedServer


@pytest.fixture
async def server():
    async with FeedServer() as running:
        yield running


@pytest.fixture
async def client():
    async with httpx.AsyncClient(trust_env=False) as made:
        yield made
