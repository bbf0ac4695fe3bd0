"""What every Qt app does first: its language (our catalogs and Qt's own) and its window icon."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QGuiApplication

from apps.common.i18n import current_language, set_language
from apps.common.icons import app_icon

# Qt's own catalogs: the standard buttons (OK, Cancel), the file dialog, message boxes.
QT_CATALOGS = ("qtbase",)


def install_qt_translations(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Load Qt's own catalogs for ``language`` from Qt's translations folder; returns those
    installed (each a child of ``app``, so it lives as long as the app)."""
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    installed = []
    for name in QT_CATALOGS:
        translator = QTranslator(app)
        if translator.load(QLocale(language), name, "_", folder):
            app.installTranslator(translator)
            installed.append(translator)
    return installed


def start_app(app: QGuiApplication, app_name: str, requested_language: str | None) -> str:
    """Set the language (``--lang``, else the OS's) and the window icon; returns the language."""
    set_language(requested_language)
    language = current_language()
    install_qt_translations(app, language)
    app.setWindowIcon(app_icon(app_name))
    return language
