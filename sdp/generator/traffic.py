"""Synthetic network traffic: what each active line does on one day, in one region.

Per line a Poisson count of events (mean = traffic × the line's activity × a weekday factor),
each a call, an SMS or a data session at an hour drawn from a diurnal profile (night trough,
evening peak), mostly from the line's home cell. Voice call results follow a realistic mix;
dropped calls have a duration, unanswered ones none. The output is one list per mediated
element of the region, so that one region-day is the largest thing held in memory.
"""

from __future__ import annotations

from array import array

from sdp.generator.clock import DAY, HOUR
from sdp.generator.population import OFF_NETWORK
from sdp.generator.randomness import cumulative, pick, poisson, stream
from sdp.generator.world import World

VOICE, SMS, DATA = 0, 1, 2
RESULTS = ("answered", "busy", "no_answer", "failed", "dropped")
ANSWERED, BUSY, NO_ANSWER, FAILED, DROPPED = range(5)
SERVICE_SHARE = (0.30, 0.22, 0.48)  # voice, sms, data records
VOICE_RESULTS = cumulative([80, 4, 8, 3, 5])  # in RESULTS order
ZERO_SECOND_ANSWERS = 0.004  # answered and hung up at once: duration 0, not billed
SMS_FAILED = 0.03
DATA_RESULTS = cumulative([98.5, 0, 0, 0.5, 1.0])
HOME_CELL_SHARE = 0.85
MOBILE_CALLED_SHARE = 0.75
# relative activity per hour of the operator's (local) day
VOICE_HOURS = cumulative(
    [0.5, 0.25, 0.15, 0.12, 0.15, 0.4, 1.2, 2.8, 4.2, 5.0, 5.4, 5.6,
     6.0, 5.6, 5.3, 5.5, 6.0, 6.6, 7.2, 7.6, 7.0, 5.6, 3.6, 1.8]
)  # fmt: skip
DATA_HOURS = cumulative(
    [2.2, 1.2, 0.7, 0.5, 0.5, 0.8, 1.8, 3.5, 4.4, 4.2, 4.2, 4.6,
     5.2, 4.8, 4.6, 4.8, 5.2, 5.8, 6.6, 7.4, 7.8, 7.6, 6.2, 4.0]
)  # fmt: skip
WEEKDAY = (1.02, 1.02, 1.02, 1.03, 1.06, 0.95, 0.90)  # Monday first; averages to 1

# t (seconds from the window start), line, n-th event of the line that day, service,
# duration_s, volume_mb (text, 3 places), call result, called number, cell id
Cdr = tuple[int, int, int, int, int | None, str | None, int, str | None, str]


def region_day(world: World, day: int, region: int, lines: array) -> dict[str, list[Cdr]]:
    pop, topo = world.population, world.topology
    code = world.market.regions[region].code
    cells = topo.cells[code]
    n_cells = len(cells)
    msc_of = topo.cell_msc
    smsc, pgw = topo.smsc[code], topo.pgw[code]
    out: dict[str, list[Cdr]] = {msc: [] for msc in sorted({msc_of[c] for c in cells})}
    sms_out, data_out = out.setdefault(smsc, []), out.setdefault(pgw, [])
    on = world.window.date_of(day)
    rng = stream(world.seed, "traffic", on.isoformat(), code)
    rand, lognormal = rng.random, rng.lognormvariate
    mean = world.traffic * WEEKDAY[on.weekday()]
    voice_share = SERVICE_SHARE[0]
    sms_share = voice_share + SERVICE_SHARE[1]
    day0 = day * DAY
    start, end, suspend = pop.line_start, pop.line_end, pop.line_suspend
    flags, activity, home_cell = pop.line_flags, pop.line_activity, pop.line_cell
    numbering = world.market.numbering
    cc = numbering.calling_code
    landline_areas, landline_length = numbering.landline_areas, numbering.landline_length
    areas = len(landline_areas)
    mobile = f"+{cc}{numbering.called_mobile_prefix}"
    mobile_digits = numbering.called_mobile_digits
    mobile_range = 10**mobile_digits
    for line in lines:
        if not start[line] < day < end[line] or day >= suspend[line] or flags[line] & OFF_NETWORK:
            continue
        home = cells[home_cell[line] % n_cells]
        for k in range(poisson(rng, mean * activity[line])):
            kind = rand()
            cell = home if rand() < HOME_CELL_SHARE else cells[int(rand() * n_cells)]
            if kind < voice_share:
                t = day0 + pick(rng, VOICE_HOURS) * HOUR + int(rand() * HOUR)
                result = pick(rng, VOICE_RESULTS)
                if result == ANSWERED:
                    duration = (
                        0
                        if rand() < ZERO_SECOND_ANSWERS
                        else min(7200, 1 + int(lognormal(4.1, 1.0)))
                    )
                elif result == DROPPED:
                    duration = 1 + int(rand() * 600)
                else:
                    duration = 0
                if rand() < MOBILE_CALLED_SHARE:
                    called = f"{mobile}{int(rand() * mobile_range):0{mobile_digits}d}"
                else:
                    area = landline_areas[int(rand() * areas)]
                    rest = landline_length - len(area)
                    called = f"+{cc}{area}{int(rand() * 10**rest):0{rest}d}"
                out[msc_of[cell]].append((t, line, k, VOICE, duration, None, result, called, cell))
            elif kind < sms_share:
                t = day0 + pick(rng, VOICE_HOURS) * HOUR + int(rand() * HOUR)
                result = FAILED if rand() < SMS_FAILED else ANSWERED
                called = f"{mobile}{int(rand() * mobile_range):0{mobile_digits}d}"
                sms_out.append((t, line, k, SMS, None, None, result, called, cell))
            else:
                t = day0 + pick(rng, DATA_HOURS) * HOUR + int(rand() * HOUR)
                result = pick(rng, DATA_RESULTS)
                volume = f"{min(5000.0, max(0.01, lognormal(2.0, 1.5))):.3f}"
                duration = 10 + int(rand() * 3600)
                data_out.append((t, line, k, DATA, duration, volume, result, None, cell))
    return out
