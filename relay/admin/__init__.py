"""The admin API: JSON over HTTPS (TLS 1.3) on its own port, for the console and ``telework-ctl``.

``service`` holds the logic (roles, tenant isolation, policies, monitoring), ``routes`` the
aiohttp handlers and the one route table the OpenAPI description is generated from, ``server``
starts it next to a :class:`relay.server.RelayServer`.
"""
