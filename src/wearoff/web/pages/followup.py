"""The patient's own follow-up: a signed link to rate their lines 0-3, no account needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from wearoff.web.auth import CsrfChecked, DbSession
from wearoff.web.errors import InvalidInputError
from wearoff.web.pages.forms import form_fields
from wearoff.web.pages.rendering import render
from wearoff.web.services import followup

router = APIRouter()


def _read(request: Request, session: DbSession, token: str) -> followup.FollowUp:
    settings = request.app.state.settings
    return followup.read_link_token(session, token, settings.secret_key, settings.followup_link_days)


@router.get("/f/{token}")
def followup_page(request: Request, token: str, session: DbSession) -> Response:
    follow = _read(request, session, token)
    return render(
        request,
        "followup.html",
        {"follow": follow, "labels": followup.area_labels(follow.areas), "errors": {}, "values": {}},
    )


@router.post("/f/{token}", dependencies=[CsrfChecked])
async def followup_submit(request: Request, token: str, session: DbSession) -> Response:
    follow = _read(request, session, token)
    fields = await form_fields(request)
    scores = {area: fields.get(f"score_{area}", "") for area in follow.areas}
    try:
        count = followup.submit(session, follow, scores)
    except InvalidInputError as exc:
        return render(
            request,
            "followup.html",
            {
                "follow": follow,
                "labels": followup.area_labels(follow.areas),
                "errors": exc.by_field(),
                "values": fields,
            },
            status_code=422,
        )
    return render(request, "followup_done.html", {"count": count, "clinic": follow.clinic})
