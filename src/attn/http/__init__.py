"""The one HTTP edge that the JSON API (`attn.api`) and the pages (`attn.web`) share.

Here: the request and response schemas, the route dependencies (service context, current
user by role, client address, device id, pages of a list), the table from service errors to
HTTP statuses, the live-roll event stream, the QR image and the body-size limit. Imports
`attn.services` and below, never `attn.api` or `attn.web`.
"""
