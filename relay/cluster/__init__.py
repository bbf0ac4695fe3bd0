"""The relay cluster: nodes that share one PostgreSQL directory and talk through it.

``bus`` carries messages between nodes (PostgreSQL LISTEN/NOTIFY); ``node`` is a node's part in
the cluster (its lease and heartbeat, where office PCs are, offers to the node holding one,
ending dead nodes' sessions); ``local`` is the same interface for a relay that is alone.
"""
