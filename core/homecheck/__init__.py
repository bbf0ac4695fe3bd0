"""The home-PC check, sans I/O: what the viewer says about its own machine, and whether a policy
lets it connect.

- :mod:`core.homecheck.report`: the checks, their statuses and the report a login carries
  (validated when it arrives: it is the peer's input).
- :mod:`core.homecheck.evaluate`: a report against a :class:`core.policy.Policy` — the
  refusal, if any, and the checks that failed.
- :mod:`core.homecheck.linux` and :mod:`core.homecheck.windows`: parsers of the files and
  command outputs the viewer gathers (``apps/viewer/home_check.py`` runs the commands), tested
  with recorded outputs.

Everything here is the home PC's own statement about itself: SECURITY.md says what it is worth.
"""
