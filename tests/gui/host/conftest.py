"""Host tray and wizard under Qt's offscreen platform: no display needed, nothing shown."""

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
