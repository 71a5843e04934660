// Data page: the project's datasets, adding one (file dialog or drag and drop, format detected,
// mapping offered), a lazy preview of the file and its statistics with plots: token-length
// histogram, label balance and the train-versus-validation drift figure.
#pragma once

#include <QWidget>
#include <optional>

#include "datasetregistrar.h"
#include "workbenchcontext.h"

class BarPlot;
class DatasetPreviewModel;
class DatasetsModel;
class MessageBanner;
class QLabel;
class QTableView;
class QTabWidget;
class QPushButton;

class DataPage : public QWidget {
  Q_OBJECT
 public:
  explicit DataPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  // File dialog, then addDatasetInteractively.
  void chooseFile();
  // Asks for the mapping (dialog), then registers the file in the background.
  void addDatasetInteractively(const QString& path);
  // Registers without asking (also what the dialog ends in), in the background. Returns false
  // when a registration is already running. datasetAdded or datasetAddFailed follows.
  bool addDataset(const QString& path, const QString& name,
                  std::optional<deeptune::DataFormat> format = std::nullopt,
                  std::optional<deeptune::FieldMapping> mapping = std::nullopt);
  void selectDataset(const QString& name);

  DatasetsModel* datasetsModel() const { return m_datasets; }
  DatasetPreviewModel* previewModel() const { return m_preview; }
  BarPlot* lengthPlot() const { return m_lengths; }
  BarPlot* labelPlot() const { return m_labels; }
  BarPlot* driftPlot() const { return m_drift; }
  MessageBanner* banner() const { return m_banner; }

 Q_SIGNALS:
  void datasetAdded(const QString& name);
  void datasetAddFailed(const QString& detail);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void refresh();
  void showDataset(int row);
  void showStats(const deeptune::DatasetStats& stats);

  WorkbenchContext m_context;
  DatasetsModel* m_datasets;
  DatasetPreviewModel* m_preview;
  MessageBanner* m_banner;
  QTableView* m_list;
  QTableView* m_table;
  QTabWidget* m_tabs;
  QLabel* m_previewStatus;
  QLabel* m_summary;
  QLabel* m_useHint;
  QPushButton* m_addButton;
  BarPlot* m_lengths;
  BarPlot* m_labels;
  BarPlot* m_drift;
  DatasetRegistrar* m_registrar;
};
