// Model & LoRA page: the base model (presets; earlier runs of the project), task, training mode,
// the LoRA form with target modules offered as check boxes from the model's real module names,
// attention kind, and a live count of trainable parameters and their share of the model.
#pragma once

#include <QFutureWatcher>
#include <QMap>
#include <QWidget>

#include "deeptune/session.h"
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
  void showSummary();

  WorkbenchContext m_context;
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
  struct SummaryResult {
    deeptune::ModelSummary summary;
    QString error;
    quint64 request = 0;
  };
  QFutureWatcher<SummaryResult> m_watcher;
  quint64 m_request = 0;
  bool m_pending = false;
  deeptune::ModelSummary m_summary;
};
