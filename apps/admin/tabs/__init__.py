"""The console's tabs, one module per task, over the shared :class:`~apps.admin.tabs.base.Tab`."""
