"""The administrator's start page. Until the administration pages exist it says what an
administrator can do today: manage accounts with the `attn users` commands on the server."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from attn.web.render import PageRoute, render
from attn.web.session import PageAdmin

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/admin", response_class=HTMLResponse)
async def admin_page(request: Request, user: PageAdmin) -> HTMLResponse:
    return render(request, "admin.html", user=user)
