// Data page: the project's datasets, adding one (file dialog or drag and drop, format detected,
// mapping offered), a lazy preview of the file and its statistics with plots: token-length
// histogram, label balance and the train-versus-validation drift figure. The Tokens tab counts
// with the tokenizer of the model the draft config starts from (histogram, share cut at
// data.max_length) and shows one example as the model sees it, the tokens the loss covers
// highlighted.
#pragma once

#include <QWidget>
#include <optional>

#include "datasetregistrar.h"
#include "deeptune/data_preview.h"
#include "workbenchcontext.h"

class BarPlot;
class DataTokenService;
class DatasetPreviewModel;
class DatasetsModel;
class MessageBanner;
class QComboBox;
class QLabel;
class QSpinBox;
class QTextEdit;
class QTimer;
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
  DataTokenService* tokenService() const { return m_tokens; }
  BarPlot* tokenPlot() const { return m_tokenLengths; }
  QLabel* tokenSummary() const { return m_tokenSummary; }
  QSpinBox* exampleRow() const { return m_exampleRow; }  // 1-based
  QTextEdit* exampleView() const { return m_exampleView; }
  QLabel* exampleStatus() const { return m_exampleStatus; }
  QComboBox* chatTemplate() const { return m_chatTemplate; }  // data.chat_template

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
  // Asks for the token view of the current dataset under the draft (coalesced: one request per
  // burst of draft edits).
  void requestTokens();
  void requestExample();
  void showTokenStats(const deeptune::TokenStats& stats);
  void showExample(const deeptune::ExamplePreview& preview);
  void syncChatTemplate();

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
  DataTokenService* m_tokens;
  QString m_currentDataset;
  int m_tokensTab = -1;
  bool m_tokensStale = false;  // the token view is behind the dataset or the draft
  QTimer* m_tokenTimer;
  QLabel* m_tokenSummary;
  QComboBox* m_chatTemplate;
  BarPlot* m_tokenLengths;
  QSpinBox* m_exampleRow;
  QTextEdit* m_exampleView;
  QLabel* m_exampleStatus;
};
