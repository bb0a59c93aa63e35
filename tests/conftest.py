import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from shokti.models import Role
from tests.factories import MembershipFactory, OrganizationFactory, issue_token


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="acme")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(slug="globex")


@pytest.fixture
def membership(org):
    return MembershipFactory(organization=org, role=Role.MARKETER)


@pytest.fixture
def token(membership):
    return issue_token(membership)


@pytest.fixture
def api_client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def client_for():
    """api_client_for(org, role): a client holding a fresh token of that role."""

    def make(organization, role=Role.MARKETER):
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Bearer {issue_token(MembershipFactory(organization=organization, role=role))}"
        )
        return client

    return make


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (tests.servers.SmtpServer); `smtp_server.configure(settings)` routes mail to it."""
    from tests.servers import SmtpServer

    with SmtpServer() as server:
        yield server


@pytest.fixture
def http_server():
    """A real HTTP server on loopback (tests.servers.HttpServer): records requests, answers scripted replies."""
    from tests.servers import HttpServer

    with HttpServer() as server:
        yield server
