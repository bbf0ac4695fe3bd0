"""The admin API: JSON over HTTPS (TLS 1.3) on its own port, for the console and ``telework-ctl``.

``routes`` is the one route table (the router and the OpenAPI description are built from it),
``params`` parses query parameters and path segments, ``schema`` checks JSON bodies,
``handlers`` turn a checked request into one service call and shape its answer, ``service``
(sign-in, roles, tenant isolation) composes the per-resource ``services`` that do the work on
the directory and the live relay, and ``server`` starts it next to a
:class:`relay.server.RelayServer`.
"""
