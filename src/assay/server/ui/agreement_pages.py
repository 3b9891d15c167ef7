"""A queue's agreement page: per field, Krippendorff's alpha with its interval, Fleiss'
kappa, Cohen's kappa per annotator pair, and alpha week by week as a table and an
inline SVG sparkline drawn here (no script, nothing fetched).

JSON twin: the queue statistics of the REST API
(:mod:`assay.server.routes.queue_stats`); both read through
:func:`assay.review.queue_agreement`. Nothing is cached: labels keep coming.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from assay.errors import AssayError
from assay.review import PeriodAgreement, agreement_over_time, queue_agreement
from assay.server.ui.access import Viewer
from assay.server.ui.layout import failure_page, layout_context, store_of
from assay.server.ui.review_links import ReviewLinks
from assay.server.ui.review_view import project_queue
from assay.server.ui.templating import render

router = APIRouter(include_in_schema=False)

PAGE_RESAMPLES = 500
"""Bootstrap resamples per coefficient on this page: half the library's default, so a
queue of a few hundred items with two fields answers in well under a second; the
endpoints' Monte Carlo error is then about 0.13 standard errors."""
WEEKLY_RESAMPLES = 1
"""Weeks show alpha without an interval: a week holds few items (its interval would
span most of [-1, 1]), and a queue a year old has 52 weeks per field, each of which
would cost as much as the whole queue's interval (measured: 4 fields x 4 weeks x 200
resamples took 0.66 s, the page's other work 0.45 s)."""

SPARK_WIDTH = 240
SPARK_HEIGHT = 40
_PAD = 3


@dataclass(frozen=True)
class Sparkline:
    """Alpha over time as SVG shapes in a ``SPARK_WIDTH`` x ``SPARK_HEIGHT`` box.

    Attributes:
        lines: ``points`` attributes of polylines, one per run of weeks with an alpha
            (a week without one breaks the line).
        dots: (x, y, alpha) of each week with an alpha.
        floor_y: The floor's height, when it is inside the drawn range.
        low: The alpha at the bottom edge.
        high: The alpha at the top edge.
    """

    lines: list[str]
    dots: list[tuple[float, float, float]]
    floor_y: float | None
    low: float
    high: float

    @property
    def width(self) -> int:
        """The box's width."""
        return SPARK_WIDTH

    @property
    def height(self) -> int:
        """The box's height."""
        return SPARK_HEIGHT


def sparkline(periods: Sequence[PeriodAgreement], floor: float) -> Sparkline | None:
    """The sparkline of weekly alphas; None with fewer than two weeks that have one."""
    values = [p.alpha for p in periods]
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return None
    low = min(0.0, *known)
    high = 1.0
    span = high - low

    def x(i: int) -> float:
        return round(_PAD + i * (SPARK_WIDTH - 2 * _PAD) / (len(values) - 1), 1)

    def y(v: float) -> float:
        return round(_PAD + (high - v) * (SPARK_HEIGHT - 2 * _PAD) / span, 1)

    lines: list[str] = []
    run: list[str] = []
    dots: list[tuple[float, float, float]] = []
    for i, v in enumerate(values):
        if v is None:
            if len(run) > 1:
                lines.append(" ".join(run))
            run = []
            continue
        run.append(f"{x(i)},{y(v)}")
        dots.append((x(i), y(v), v))
    if len(run) > 1:
        lines.append(" ".join(run))
    floor_y = y(floor) if low <= floor <= high else None
    return Sparkline(lines=lines, dots=dots, floor_y=floor_y, low=low, high=high)


@router.get("/p/{project}/queues/{queue}/agreement")
def agreement_page(request: Request, project: str, queue: str, viewer: Viewer) -> Response:
    """How far the queue's annotators agree, field by field and week by week."""
    try:
        with store_of(request).session() as db:
            the_project, the_queue = project_queue(db, project, queue)
            report = queue_agreement(db, the_queue, resamples=PAGE_RESAMPLES)
            weekly = {
                f.field: agreement_over_time(
                    db, the_queue, f.field, bucket="week", resamples=WEEKLY_RESAMPLES
                )
                for f in report.fields
            }
            context = layout_context(
                db,
                viewer,
                title=f"Agreement · {the_queue.name}",
                project=the_project,
                nav="queues",
            )
    except AssayError as exc:
        return failure_page(exc, viewer)
    context.update(
        queue=the_queue,
        report=report,
        weekly=weekly,
        sparks={
            name: sparkline(periods, the_queue.agreement_floor) for name, periods in weekly.items()
        },
        resamples=PAGE_RESAMPLES,
        links=ReviewLinks(the_project.name),
    )
    return render("agreement.html", context)
