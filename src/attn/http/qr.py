"""The QR code of a lesson's join link, as the projector shows it."""

from __future__ import annotations

import io

import segno
from fastapi.responses import Response

from attn.models import CheckInCode


def qr_svg(code: CheckInCode) -> Response:
    """The join link of the current code as a standalone SVG, cached while the code lasts."""
    svg = io.BytesIO()
    segno.make(code.join_url, error="m").save(svg, kind="svg", scale=8, border=2, xmldecl=False)
    return Response(
        svg.getvalue(),
        media_type="image/svg+xml",
        headers={"Cache-Control": f"private, max-age={code.valid_for_seconds}"},
    )
