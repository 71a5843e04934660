// Model & LoRA page: the base model (presets; earlier runs of the project), task, training mode,
// the LoRA form with target modules offered as check boxes from the model's real module names,
// attention kind, and a live count of trainable parameters and their share of the model.
#pragma once

#include <QMap>
#include <QWidget>

#include "modelsummarizer.h"
#include "workbenchcontext.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGridLayout;
class QGroupBox;
class QLabel;
class QSpinBox;

class ModelPage : public QWidget {
  Q_OBJECT
 public:
  explicit ModelPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  QStringList targetChoices() const { return m_targetBoxes.keys(); }
  QString summaryText() const;
  // The last summary computed for the current form (empty until the first one arrives).
  const deeptune::ModelSummary& summary() const { return m_summary; }

 Q_SIGNALS:
  void summaryUpdated();

 private:
  void refreshSources();
  void loadFromDraft();
  void writeTargets();
  void requestSummary();
  void showSummary(const deeptune::ModelSummary& summary);
  void showSummaryError(const UserMessage& message);

  WorkbenchContext m_context;
  ModelSummarizer* m_summarizer;
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
  deeptune::ModelSummary m_summary;
};
