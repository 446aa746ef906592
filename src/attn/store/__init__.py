"""Live state in Redis: key names, Lua scripts and the data-access layer `redis_client`."""
