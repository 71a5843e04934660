// Asks how to read a new dataset file: its name, the detected format and the field mapping,
// offered with the file's own columns and a preview of the first rows.
#pragma once

#include <QDialog>

#include "datasetpreviewmodel.h"

class QComboBox;
class QLineEdit;
class QLabel;
class QTableView;

class AddDatasetDialog : public QDialog {
  Q_OBJECT
 public:
  explicit AddDatasetDialog(const QString& path, QWidget* parent = nullptr);

  // "" when the file could be read; else the error naming the file (the dialog is then useless).
  QString loadError() const { return m_error; }
  QString datasetName() const;
  deeptune::DataFormat format() const;
  deeptune::FieldMapping mapping() const;

 private:
  void reload();
  void showColumns();
  void updateMappingFields();

  QString m_path;
  QString m_error;
  QLineEdit* m_name;
  QComboBox* m_format;
  QComboBox* m_kind;
  QComboBox* m_text;
  QComboBox* m_prompt;
  QComboBox* m_response;
  QComboBox* m_label;
  QComboBox* m_messages;
  QLabel* m_status;
  DatasetPreviewModel* m_preview;
  QTableView* m_table;
};
