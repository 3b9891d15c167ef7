"""REST API: versioned eval datasets of the API key's project (under /api/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from assay.datasets import (
    AddMode,
    AddResult,
    CaseFormat,
    CaseSpec,
    DatasetView,
    OnDuplicate,
    VersionView,
    add_version,
    case_record,
    create_dataset,
    diff_cases,
    get_dataset,
    get_version,
    list_datasets,
    read_cases,
    version_cases,
    write_cases,
)
from assay.errors import PayloadTooLarge
from assay.server.auth import ApiProject
from assay.server.state import ServerState, get_state

router = APIRouter(
    prefix="/api/v1",
    tags=["datasets"],
    responses={
        400: {"description": "A malformed case, file or reference; the message names it."},
        401: {"description": "Missing, unknown or revoked project API key."},
        404: {"description": "The key's project has no such dataset or version."},
    },
)
State = Annotated[ServerState, Depends(get_state)]

_MEDIA_TYPES = {
    CaseFormat.JSONL: "application/x-ndjson",
    CaseFormat.CSV: "text/csv; charset=utf-8",
    CaseFormat.PARQUET: "application/vnd.apache.parquet",
}
# Cases per page of a version unless asked otherwise, and the most one page may hold.
_PAGE = 100
_MAX_PAGE = 1000


class VersionOut(BaseModel):
    """One immutable version of a dataset."""

    ref: str = Field(description="`NAME@N`: finds this version again.")
    number: int = Field(description="1 for the first version, then 2, 3, ...")
    digest: str = Field(description="SHA-256 of the version's cases (content address).")
    case_count: int = Field(description="How many cases it holds.")
    message: str = Field(description="The note given when it was made.")
    source: str = Field(description="Where its cases came from (a file name, `api`).")
    created_by: str = Field(description="Who made it, when known.")
    created_at: datetime = Field(description="When it was made (UTC).")


class DatasetOut(BaseModel):
    """A dataset and its versions, newest first."""

    name: str
    description: str
    created_at: datetime
    versions: list[VersionOut]


class DatasetIn(BaseModel):
    """A dataset to create."""

    name: str = Field(description="Unique in the project; no `@` or `/`.")
    description: str = Field(default="", description="What the dataset is for.")


class VersionIn(BaseModel):
    """Cases for a new version."""

    cases: list[CaseSpec] = Field(description="The cases, in order.")
    mode: AddMode = Field(
        default="replace",
        description="`replace`: the version holds exactly these cases; `append`: the latest "
        "version's cases plus these (an id already there is replaced).",
    )
    message: str = Field(default="", description="A note kept with the version.")
    on_duplicate: OnDuplicate = Field(
        default="skip",
        description="A case whose input repeats another's: `skip` it, `keep` both, or "
        "refuse the request (`error`).",
    )


class DuplicateOut(BaseModel):
    """A case whose input repeats another case's."""

    case_id: str
    duplicate_of: str
    kind: Literal["exact", "near"]
    similarity: float
    same_reference: bool = Field(description="False: two labels for one question.")
    dropped: bool = Field(description="Whether it was left out of the version.")


class AddOut(BaseModel):
    """The outcome of adding a version."""

    version: VersionOut
    created: bool = Field(description="False when the content equals the latest version's.")
    dataset_created: bool
    added: list[str] = Field(description="Case ids new against the previous version.")
    removed: list[str]
    changed: list[str]
    duplicates: list[DuplicateOut]


class VersionCasesOut(BaseModel):
    """A version and a page of its cases."""

    version: VersionOut
    offset: int
    cases: list[dict[str, Any]] = Field(description="Cases as JSONL records, in order.")


class CaseChangeOut(BaseModel):
    """A case whose content differs between the two versions."""

    id: str
    fields: list[str]


class DatasetDiffOut(BaseModel):
    """Which cases changed from version `a` to version `b`."""

    a: VersionOut
    b: VersionOut
    added: list[str]
    removed: list[str]
    changed: list[CaseChangeOut]
    unchanged: int


def _version(view: VersionView) -> VersionOut:
    return VersionOut(
        ref=view.ref,
        number=view.number,
        digest=view.digest,
        case_count=view.case_count,
        message=view.message,
        source=view.source,
        created_by=view.created_by,
        created_at=view.created_at,
    )


def _dataset(view: DatasetView) -> DatasetOut:
    return DatasetOut(
        name=view.name,
        description=view.description,
        created_at=view.created_at,
        versions=[_version(v) for v in view.versions],
    )


def _added(result: AddResult, response: Response) -> AddOut:
    if not result.created:
        response.status_code = 200
    return AddOut(
        version=_version(result.version),
        created=result.created,
        dataset_created=result.dataset_created,
        added=result.added,
        removed=result.removed,
        changed=result.changed,
        duplicates=[
            DuplicateOut(
                case_id=d.case_id,
                duplicate_of=d.duplicate_of,
                kind=d.kind,
                similarity=d.similarity,
                same_reference=d.same_reference,
                dropped=d.dropped,
            )
            for d in result.duplicates
        ],
    )


@router.get("/datasets", response_model=list[DatasetOut], summary="List datasets")
def datasets(project: ApiProject, state: State) -> list[DatasetOut]:
    """The project's datasets by name, each with its versions."""
    with state.store.session() as session:
        return [_dataset(v) for v in list_datasets(session, project.project_id)]


@router.post(
    "/datasets",
    response_model=DatasetOut,
    status_code=201,
    summary="Create a dataset",
    responses={409: {"description": "The project already has a dataset of that name."}},
)
def create(body: DatasetIn, project: ApiProject, state: State) -> DatasetOut:
    """Create an empty dataset; versions come from adding or importing cases."""
    with state.store.write_session() as session:
        return _dataset(create_dataset(session, project.project_id, body.name, body.description))


@router.get("/datasets/{name}", response_model=DatasetOut, summary="Get a dataset")
def dataset(name: str, project: ApiProject, state: State) -> DatasetOut:
    """One dataset with its versions, newest first."""
    with state.store.session() as session:
        return _dataset(get_dataset(session, project.project_id, name))


@router.post(
    "/datasets/{name}/versions",
    response_model=AddOut,
    status_code=201,
    summary="Add a version",
    responses={200: {"model": AddOut, "description": "Same content as the latest version."}},
)
def add(
    name: str,
    body: Annotated[VersionIn, Body()],
    project: ApiProject,
    state: State,
    response: Response,
) -> AddOut:
    """Store cases as the dataset's next version (201), creating the dataset if needed.

    Content equal to the latest version's makes no new version (200). Case ids must
    be unique; a case without an id gets one derived from its input.
    """
    with state.store.write_session() as session:
        result = add_version(
            session,
            project.project_id,
            name,
            body.cases,
            mode=body.mode,
            message=body.message,
            source="api",
            on_duplicate=body.on_duplicate,
        )
    return _added(result, response)


@router.post(
    "/datasets/{name}/import",
    response_model=AddOut,
    status_code=201,
    summary="Import a case file as a version",
    responses={
        200: {"model": AddOut, "description": "Same content as the latest version."},
        413: {"description": "The file is over the server's body size limit."},
    },
)
async def import_file(
    name: str,
    request: Request,
    project: ApiProject,
    state: State,
    response: Response,
    format: Annotated[CaseFormat, Query(description="The file's format.")] = CaseFormat.JSONL,
    mode: Annotated[AddMode, Query(description="`replace` or `append`.")] = "replace",
    message: Annotated[str, Query(description="A note kept with the version.")] = "",
    on_duplicate: Annotated[OnDuplicate, Query(description="`skip`, `keep` or `error`.")] = "skip",
    filename: Annotated[str, Query(description="Recorded as the version's source.")] = "",
) -> AddOut:
    """Import a JSONL, CSV or Parquet file (the request body) as the next version.

    The same rules as `assay dataset import`: each line or row needs an `input`; an
    invalid one is refused with 400 naming its line, and nothing is stored.
    """
    limit = state.settings.max_body_bytes
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the file is over the {limit:,}-byte body limit")
    cases = read_cases(bytes(body), format, filename or f"body.{format.value}")
    with state.store.write_session() as session:
        result = add_version(
            session,
            project.project_id,
            name,
            cases,
            mode=mode,
            message=message,
            source=filename or "api",
            on_duplicate=on_duplicate,
        )
    return _added(result, response)


@router.get(
    "/datasets/{name}/versions/{version}",
    response_model=VersionCasesOut,
    summary="Get a version's cases",
)
def cases(
    name: str,
    version: str,
    project: ApiProject,
    state: State,
    offset: Annotated[int, Query(ge=0, description="Skip this many cases.")] = 0,
    limit: Annotated[int, Query(ge=1, le=_MAX_PAGE, description="At most this many.")] = _PAGE,
) -> VersionCasesOut:
    """A version (`N`, `vN`, `latest` or a digest prefix) and a page of its cases."""
    with state.store.session() as session:
        view = get_version(session, project.project_id, f"{name}@{version}")
        page = version_cases(session, view.id, offset=offset, limit=limit)
    return VersionCasesOut(
        version=_version(view), offset=offset, cases=[case_record(c.case, c.id) for c in page]
    )


@router.get(
    "/datasets/{name}/versions/{version}/export",
    summary="Export a version",
    response_class=Response,
    responses={200: {"description": "The cases as a JSONL, CSV or Parquet file."}},
)
def export(
    name: str,
    version: str,
    project: ApiProject,
    state: State,
    format: Annotated[CaseFormat, Query(description="The file format.")] = CaseFormat.JSONL,
) -> Response:
    """A version's cases as a file that imports back as the same cases."""
    with state.store.session() as session:
        view = get_version(session, project.project_id, f"{name}@{version}")
        rows = version_cases(session, view.id)
    data = write_cases(((c.id, c.case) for c in rows), format)
    filename = f"{view.dataset}-v{view.number}.{format.value}"
    return Response(
        content=data,
        media_type=_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/datasets/{name}/diff", response_model=DatasetDiffOut, summary="Diff two versions")
def diff(
    name: str,
    project: ApiProject,
    state: State,
    a: Annotated[str, Query(description="The older version (`N`, `latest` or a digest).")],
    b: Annotated[str, Query(description="The newer version.")] = "latest",
) -> DatasetDiffOut:
    """Which cases were added, removed or changed from version `a` to version `b`."""
    with state.store.session() as session:
        old = get_version(session, project.project_id, f"{name}@{a}")
        new = get_version(session, project.project_id, f"{name}@{b}")
        result = diff_cases(version_cases(session, old.id), version_cases(session, new.id))
    return DatasetDiffOut(
        a=_version(old),
        b=_version(new),
        added=result.added,
        removed=result.removed,
        changed=[CaseChangeOut(id=c.id, fields=c.fields) for c in result.changed],
        unchanged=result.unchanged,
    )
