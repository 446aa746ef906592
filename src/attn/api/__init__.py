"""The HTTP API: app factory, routers, dependencies and error handlers. Imports services."""
