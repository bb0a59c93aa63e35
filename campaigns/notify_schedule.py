"""The daily schedule optimiser of Notify: which recommended campaigns go out when.

The day is cut into 15-minute slots in the request's timezone. Placing
campaign c in slot s is worth its expected clicks:

    similarity(c) * priority weight(c) * the contact's engagement at that hour * a preferred-time bonus

and the optimiser maximises the total under the rules: at most
`max_notifications` placements, each campaign at most once, nothing in quiet
hours or on a blackout date or outside the campaign's window, and at least
`min_gap_minutes` between two notifications. That is a small 0-1 program
(hundreds to a couple of thousand variables), solved exactly by SciPy's HiGHS
MILP: a sort by score would put the best campaign in the best hour even when
that blocks two others that only fit there.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

SLOT_MINUTES = 15
SLOTS = 24 * 60 // SLOT_MINUTES
PRIORITY_WEIGHTS = {"high": 1.5, "medium": 1.0, "low": 0.6}
# A slot at a preferred time is worth this much more, fading linearly to nothing PREFERENCE_REACH minutes away.
PREFERENCE_BONUS = 0.25
PREFERENCE_REACH = 60
# Opens and clicks a contact needs before their own hours outweigh a flat day.
PROFILE_PRIOR_STRENGTH = 24.0
SOLVER_TIME_LIMIT = 5.0


class SchedulingFailed(Exception):
    """The solver found no answer in time (seed 002's SCHEDULING_FAILED)."""


@dataclass(frozen=True)
class Candidate:
    key: str
    score: float
    priority: str
    window_start: datetime | None = None
    window_end: datetime | None = None


@dataclass(frozen=True)
class DayRules:
    max_notifications: int
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    quiet_start: int | None = None  # minutes after local midnight
    quiet_end: int | None = None
    preferred: tuple[int, ...] = ()
    blackout_dates: frozenset[date] = frozenset()
    min_gap_minutes: int = 60

    def is_quiet(self, minute: int) -> bool:
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= minute < self.quiet_end
        return minute >= self.quiet_start or minute < self.quiet_end  # wraps past midnight

    def preference(self, minute: int) -> float:
        if not self.preferred:
            return 1.0
        distance = min(min(abs(minute - p), 24 * 60 - abs(minute - p)) for p in self.preferred)
        return 1.0 + PREFERENCE_BONUS * max(0.0, 1.0 - distance / PREFERENCE_REACH)


@dataclass(frozen=True)
class Placement:
    candidate: Candidate
    slot: int
    at: datetime  # UTC
    value: float


@dataclass
class DayPlan:
    placements: list[Placement]
    objective: float
    optimum: float

    @property
    def score(self) -> float:
        """Achieved expected clicks over what the same campaigns would earn with no rules at all."""
        return round(self.objective / self.optimum, 4) if self.optimum > 0 else 0.0


def slot_times(day: date, zone: ZoneInfo) -> list[datetime]:
    """The UTC start of each local 15-minute slot of `day`."""
    return [
        datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)
        for minute in range(0, 24 * 60, SLOT_MINUTES)
    ]


def hourly_profile(local_hours: Iterable[tuple[int, float]]) -> np.ndarray:
    """24 multipliers averaging 1: the hours a contact opened or clicked, shrunk towards a flat day.

    `local_hours` yields (hour, weight) per open or click.
    """
    counts = np.zeros(24)
    for hour, weight in local_hours:
        counts[hour] += weight
    flat = np.full(24, PROFILE_PRIOR_STRENGTH / 24)
    return 24 * (counts + flat) / (counts.sum() + PROFILE_PRIOR_STRENGTH)


def slot_values(candidates: Sequence[Candidate], rules: DayRules, day: date, profile: np.ndarray):
    """(values, allowed, times): each candidate's worth in each slot, where the rules allow it, and slot times."""
    times = slot_times(day, rules.zone)
    minutes = np.arange(0, 24 * 60, SLOT_MINUTES)
    per_slot = np.array([profile[m // 60] * rules.preference(int(m)) for m in minutes])
    weights = np.array([c.score * PRIORITY_WEIGHTS.get(c.priority, 1.0) for c in candidates])
    values = np.outer(weights, per_slot)
    open_slots = np.array([not rules.is_quiet(int(m)) for m in minutes]) & (day not in rules.blackout_dates)
    allowed = np.tile(open_slots, (len(candidates), 1))
    for row, candidate in enumerate(candidates):
        for slot, at in enumerate(times):
            if (candidate.window_start and at < candidate.window_start) or (
                candidate.window_end and at >= candidate.window_end
            ):
                allowed[row, slot] = False
    return values, allowed & (values > 0), times


def optimise_day(candidates: Sequence[Candidate], rules: DayRules, day: date, profile: np.ndarray) -> DayPlan:
    """The placements that maximise expected clicks under the rules (exact, by MILP)."""
    if not candidates:
        return DayPlan([], 0.0, 0.0)
    values, allowed, times = slot_values(candidates, rules, day, profile)
    optimum = float(np.sort(values.max(axis=1))[::-1][: rules.max_notifications].sum())
    pairs = np.argwhere(allowed)
    if not len(pairs) or rules.max_notifications == 0:
        return DayPlan([], 0.0, optimum)

    gap = max(1, -(-rules.min_gap_minutes // SLOT_MINUTES))  # slots, rounded up
    n = len(candidates)
    rows, cols = [], []
    for column, (candidate, slot) in enumerate(pairs):
        rows.append(candidate)  # each campaign at most once
        cols.append(column)
        # Every run of `gap` consecutive slots holds at most one notification.
        for start in range(max(0, slot - gap + 1), slot + 1):
            rows.append(n + start)
            cols.append(column)
        rows.append(n + SLOTS)  # the daily cap
        cols.append(column)
    matrix = sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n + SLOTS + 1, len(pairs)))
    upper = np.ones(n + SLOTS + 1)
    upper[-1] = rules.max_notifications
    gains = values[pairs[:, 0], pairs[:, 1]]
    result = milp(
        -gains,
        constraints=LinearConstraint(matrix, -np.inf, upper),
        integrality=np.ones(len(pairs)),
        bounds=Bounds(0, 1),
        options={"time_limit": SOLVER_TIME_LIMIT},
    )
    if result.x is None:
        raise SchedulingFailed(result.message)
    chosen = pairs[result.x > 0.5]
    placements = sorted(
        (Placement(candidates[c], int(s), times[s], float(values[c, s])) for c, s in chosen), key=lambda p: p.slot
    )
    return DayPlan(placements, float(sum(p.value for p in placements)), optimum)
