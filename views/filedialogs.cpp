// Qt's own dialog (not the platform's, which may read files too) with an icon provider that
// classifies by extension.
#include "filedialogs.h"

#include <QAbstractFileIconProvider>
#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QStyle>

namespace {

class ExtensionIconProvider final : public QAbstractFileIconProvider {
 public:
  QIcon icon(IconType type) const override {
    return type == Folder ? QApplication::style()->standardIcon(QStyle::SP_DirIcon)
                          : QApplication::style()->standardIcon(QStyle::SP_FileIcon);
  }
  QIcon icon(const QFileInfo& info) const override {
    return icon(info.isDir() ? Folder : File);
  }
  QString type(const QFileInfo& info) const override {
    if (info.isDir()) return QFileDialog::tr("Folder");
    const QString suffix = info.suffix();
    return suffix.isEmpty() ? QFileDialog::tr("File") : suffix.toUpper();
  }
};

ExtensionIconProvider& provider() {
  static ExtensionIconProvider instance;
  return instance;
}

QString run(QFileDialog* dialog) {
  const QString chosen =
      dialog->exec() == QDialog::Accepted ? dialog->selectedFiles().value(0) : QString();
  delete dialog;
  return chosen;
}

}  // namespace

QFileDialog* makeFileDialog(QWidget* parent, const QString& title, const QString& folder,
                            const QString& filter) {
  auto* dialog = new QFileDialog(parent, title, folder, filter);
  dialog->setOption(QFileDialog::DontUseNativeDialog);
  dialog->setIconProvider(&provider());
  return dialog;
}

QString chooseOpenFile(QWidget* parent, const QString& title, const QString& folder,
                       const QString& filter) {
  QFileDialog* dialog = makeFileDialog(parent, title, folder, filter);
  dialog->setFileMode(QFileDialog::ExistingFile);
  dialog->setAcceptMode(QFileDialog::AcceptOpen);
  return run(dialog);
}

QString chooseSaveFile(QWidget* parent, const QString& title, const QString& file,
                       const QString& filter) {
  QFileDialog* dialog = makeFileDialog(parent, title, QFileInfo(file).absolutePath(), filter);
  dialog->setAcceptMode(QFileDialog::AcceptSave);
  dialog->setFileMode(QFileDialog::AnyFile);
  dialog->selectFile(QFileInfo(file).fileName());
  return run(dialog);
}

QString chooseFolder(QWidget* parent, const QString& title, const QString& folder) {
  QFileDialog* dialog = makeFileDialog(parent, title, folder, QString());
  dialog->setFileMode(QFileDialog::Directory);
  dialog->setOption(QFileDialog::ShowDirsOnly);
  return run(dialog);
}
