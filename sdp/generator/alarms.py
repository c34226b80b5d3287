"""OSS alarms: background noise on any element, and the critical alarm behind a CDR drop.

An alarm lands in the batch of the day it was raised (open, or cleared if it cleared that day)
and again, as an update of the same alarm_id, in the batch of the day it cleared.
"""

from __future__ import annotations

from dataclasses import dataclass

from sdp.generator.clock import DAY, HOUR
from sdp.generator.feeds import Landing
from sdp.generator.randomness import stream
from sdp.generator.usage_defects import Rule
from sdp.generator.world import World

NOISE = (
    ("minor", "HIGH_CPU_LOAD", "CPU load above 85% for 5 minutes"),
    ("minor", "LINK_DEGRADED", "Transport link error rate above threshold"),
    ("warning", "TEMPERATURE_HIGH", "Cabinet temperature above 45 C"),
    ("warning", "LICENSE_NEAR_LIMIT", "Licensed capacity above 90%"),
    ("minor", "SYNC_DEGRADED", "Clock synchronisation quality degraded"),
    ("warning", "BATTERY_LOW", "Backup battery below 30%"),
)
CORE_DAILY_RATE = 0.08
CELL_DAILY_RATE = 0.015


@dataclass(frozen=True)
class Alarm:
    id: str
    element: str
    severity: str
    alarm_type: str
    raised: int  # seconds from the window start
    cleared: int | None
    description: str


def plan_alarms(world: World, drops: list[Rule]) -> tuple[list[Alarm], dict[str, str]]:
    """Every alarm of the window, and the id of the critical alarm of each CDR drop."""
    rng = stream(world.seed, "alarms")
    drafts: list[tuple[int, int, str, str, str, str, str]] = []
    for day in range(world.window.days):
        for element in world.topology.elements:
            core = element.type not in ("enodeb", "gnodeb")
            if rng.random() >= (CORE_DAILY_RATE if core else CELL_DAILY_RATE):
                continue
            severity, alarm_type, description = NOISE[rng.randrange(len(NOISE))]
            raised = day * DAY + rng.randrange(DAY)
            cleared = raised + rng.randint(300, 6 * HOUR)
            drafts.append((raised, cleared, element.id, severity, alarm_type, description, ""))
    for rule in drops:
        assert rule.element is not None
        raised = rule.begin - rng.randint(60, 300)
        cleared = rule.end + rng.randint(120, 600)
        description = f"CDR file transfer from {rule.element} to mediation failed"
        drafts.append(
            (
                raised,
                cleared,
                rule.element,
                "critical",
                "CDR_TRANSFER_FAILURE",
                description,
                rule.spec.id,
            )
        )
    drafts.sort()
    alarms: list[Alarm] = []
    for_drop: dict[str, str] = {}
    per_day: dict[int, int] = {}
    for raised, cleared, element_id, severity, alarm_type, description, drop in drafts:
        day = raised // DAY
        per_day[day] = per_day.get(day, 0) + 1
        alarm_id = f"ALM-{world.window.date_of(day):%Y%m%d}-{per_day[day]:05d}"
        alarms.append(
            Alarm(alarm_id, element_id, severity, alarm_type, raised, cleared, description)
        )
        if drop:
            for_drop[drop] = alarm_id
    return alarms, for_drop


def write_alarms(world: World, landing: Landing, alarms: list[Alarm], day: int) -> None:
    stamp = world.window.stamper("oss")
    begin, end = day * DAY, (day + 1) * DAY
    with landing.open("oss", "alarms", day) as out:
        for alarm in alarms:
            raised_today = begin <= alarm.raised < end
            cleared_today = alarm.cleared is not None and begin <= alarm.cleared < end
            if not (raised_today or cleared_today):
                continue
            cleared = alarm.cleared if alarm.cleared is not None and alarm.cleared < end else None
            out.write(
                {
                    "alarm_id": alarm.id,
                    "network_element_id": alarm.element,
                    "severity": alarm.severity,
                    "alarm_type": alarm.alarm_type,
                    "raised_at": stamp(alarm.raised),
                    "cleared_at": None if cleared is None else stamp(cleared),
                    "description": alarm.description,
                }
            )
