"""Asyncio adapters over ``core``'s sans-I/O protocol, shared by the relay and the apps.

``core`` stays free of sockets; ``relay`` and ``apps`` must not import each other. What both
need to move protocol bytes over asyncio streams (message streams, TLS links with pins, the
end-to-end channel) lives here, once.
"""
