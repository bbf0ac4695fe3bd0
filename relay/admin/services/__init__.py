"""The admin API's service layer, one module per resource: each action's whole sequence
(store changes, ending sessions, the audit record, policy pushes) in the order it must happen.

:class:`relay.admin.service.AdminService` composes them; the HTTP handlers call one method each.
"""
