// File dialogs that never open a file to guess its type. Qt's dialog reads a file of unknown
// extension (a .dtproj) to find its MIME type, and closing that descriptor drops every SQLite lock
// this process holds on an open project; another process (deeptune-cli) then believes it is alone
// with the file and resets its WAL index under the workbench's connections. These dialogs name
// types by extension only.
#pragma once

#include <QString>

class QFileDialog;
class QWidget;

// A configured, not yet shown dialog (tests show it without blocking).
QFileDialog* makeFileDialog(QWidget* parent, const QString& title, const QString& folder,
                            const QString& filter);
// Modal helpers; each returns "" when cancelled.
QString chooseOpenFile(QWidget* parent, const QString& title, const QString& folder,
                       const QString& filter);
QString chooseSaveFile(QWidget* parent, const QString& title, const QString& file,
                       const QString& filter);
QString chooseFolder(QWidget* parent, const QString& title, const QString& folder);
