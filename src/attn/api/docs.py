"""The API docs page, `/docs`: Swagger UI from files this server serves (the `fastapi-offline`
package ships them), so it works on a machine without internet and loads no third-party
script on the origin of the session cookie. ReDoc is not served.

Swagger UI sets inline styles, so this page's Content-Security-Policy allows those (and data:
images), here only; scripts still come from this origin alone.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/static"
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ATTN API</title>
  <link rel="icon" href="{ASSETS}/favicon.png">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS}/docs.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def docs_page() -> HTMLResponse:
    return HTMLResponse(DOCS_PAGE, headers={"Content-Security-Policy": DOCS_CSP})


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(
        ASSETS,
        StaticFiles(packages=[("attn.api", "static"), ("fastapi_offline", "static")]),
        name="docs-static",
    )
