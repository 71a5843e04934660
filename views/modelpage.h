// Model & LoRA page: the base model (presets; earlier runs of the project; a Hugging Face model
// folder, opened or chosen from the models in the local Hugging Face cache), task, training mode,
// the LoRA form with target modules offered as check boxes from the model's real module names,
// attention kind, and a live count of trainable parameters and their share of the model, with the
// training step's memory forecast and whether it fits the device.
#pragma once

#include <QMap>
#include <QWidget>

#include "hfmodelscanner.h"
#include "modelsummarizer.h"
#include "workbenchcontext.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGridLayout;
class QGroupBox;
class QLabel;
class QModelIndex;
class QSpinBox;
class QTableView;
class HfModelsModel;
class MessageBanner;
class MemoryForecastLabel;

class ModelPage : public QWidget {
  Q_OBJECT
 public:
  explicit ModelPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  QStringList targetChoices() const { return m_targetBoxes.keys(); }
  QString summaryText() const;
  // The last summary computed for the current form (empty until the first one arrives).
  const deeptune::ModelSummary& summary() const { return m_summary; }
  MemoryForecastLabel* memoryLabel() const { return m_memory; }

  // What "Open model folder…" does once a folder is chosen: a model folder becomes the source; a
  // folder that is not one, or a model we cannot train, is explained in the banner and changes
  // nothing. sourceChoiceHandled follows either way.
  void openModelFolder(const QString& folder);
  // Lists the Hugging Face cache again (the page lists it once when built); cacheListed follows.
  void rescanCache();
  MessageBanner* banner() const { return m_banner; }
  HfModelsModel* cachedModels() const { return m_cached; }
  QTableView* cachedModelsView() const { return m_cachedView; }

 Q_SIGNALS:
  void summaryUpdated();
  void cacheListed();
  void sourceChoiceHandled();

 private:
  void refreshSources();
  void loadFromDraft();
  void writeTargets();
  void requestSummary();
  void showSummary(const deeptune::ModelSummary& summary, const MemoryForecastPair& memory);
  void showSummaryError(const UserMessage& message);
  void chooseFolderModel(const deeptune::HfModelInfo& model);
  void chooseCachedRow(const QModelIndex& index);
  void showCache(const QString& hubDir, const QList<deeptune::HfModelInfo>& models);
  void selectSourceRow();
  QString folderSourceLabel(const QString& path) const;

  WorkbenchContext m_context;
  ModelSummarizer* m_summarizer;
  HfModelScanner* m_scanner;
  HfModelsModel* m_cached;
  QTableView* m_cachedView;
  QLabel* m_cacheNote;
  MessageBanner* m_banner;
  QMap<QString, QString> m_folderNames;  // model folder -> name shown for it (opened or cached)
  bool m_loading = false;
  QComboBox* m_source;
  QComboBox* m_task;
  QComboBox* m_mode;
  QGroupBox* m_loraBox;
  QSpinBox* m_rank;
  QDoubleSpinBox* m_alpha;
  QDoubleSpinBox* m_dropout;
  QCheckBox* m_rslora;
  QGridLayout* m_targetGrid;
  QMap<QString, QCheckBox*> m_targetBoxes;
  QComboBox* m_attention;
  QDoubleSpinBox* m_temperature;
  QLabel* m_total;
  QLabel* m_trainable;
  QLabel* m_share;
  QLabel* m_description;
  QLabel* m_adapted;
  MemoryForecastLabel* m_memory;
  deeptune::ModelSummary m_summary;
};
