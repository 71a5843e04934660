// Summaries come from the ModelSummarizer (app/): computed in the background, only the newest
// request's result shown.
#include "modelpage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLocale>
#include <QSpinBox>
#include <QVBoxLayout>

#include "configdraft.h"
#include "projectsession.h"

namespace {

QString jsonString(const nlohmann::json& j) {
  return j.is_string() ? QString::fromStdString(j.get<std::string>()) : QString();
}

}  // namespace

ModelPage::ModelPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent),
      m_context(context),
      m_summarizer(new ModelSummarizer(context.session, this)) {
  auto* layout = new QVBoxLayout(this);
  auto* baseBox = new QGroupBox(tr("Base model"), this);
  auto* baseForm = new QFormLayout(baseBox);
  m_source = new QComboBox(baseBox);
  m_source->setMinimumContentsLength(28);
  baseForm->addRow(tr("Start from:"), m_source);
  m_description = new QLabel(baseBox);
  m_description->setStyleSheet(QStringLiteral("color:#555"));
  baseForm->addRow(QString(), m_description);
  m_task = new QComboBox(baseBox);
  m_task->addItem(tr("Causal language model (continue text)"), QStringLiteral("causal_lm"));
  m_task->addItem(tr("Classification (text → label)"), QStringLiteral("classification"));
  baseForm->addRow(tr("Task:"), m_task);
  m_mode = new QComboBox(baseBox);
  m_mode->addItem(tr("LoRA adapters (base frozen)"), QStringLiteral("lora"));
  m_mode->addItem(tr("Full fine-tune (every weight trains)"), QStringLiteral("full"));
  baseForm->addRow(tr("Training:"), m_mode);
  m_attention = new QComboBox(baseBox);
  m_attention->addItem(tr("Standard"), QStringLiteral("standard"));
  m_attention->addItem(tr("With temperature"), QStringLiteral("temperature"));
  baseForm->addRow(tr("Attention:"), m_attention);
  m_temperature = new QDoubleSpinBox(baseBox);
  m_temperature->setRange(0.05, 20.0);
  m_temperature->setSingleStep(0.1);
  m_temperature->setDecimals(2);
  baseForm->addRow(tr("Temperature:"), m_temperature);
  layout->addWidget(baseBox);

  m_loraBox = new QGroupBox(tr("LoRA"), this);
  auto* loraForm = new QFormLayout(m_loraBox);
  m_rank = new QSpinBox(m_loraBox);
  m_rank->setRange(1, 1024);
  loraForm->addRow(tr("Rank r:"), m_rank);
  m_alpha = new QDoubleSpinBox(m_loraBox);
  m_alpha->setRange(0.01, 4096);
  m_alpha->setDecimals(2);
  loraForm->addRow(tr("Alpha:"), m_alpha);
  m_dropout = new QDoubleSpinBox(m_loraBox);
  m_dropout->setRange(0.0, 0.9);
  m_dropout->setSingleStep(0.01);
  m_dropout->setDecimals(3);
  loraForm->addRow(tr("Dropout:"), m_dropout);
  m_rslora = new QCheckBox(tr("Rank-stabilised scaling (alpha / √r)"), m_loraBox);
  loraForm->addRow(QString(), m_rslora);
  auto* targets = new QWidget(m_loraBox);
  m_targetGrid = new QGridLayout(targets);
  m_targetGrid->setContentsMargins(0, 0, 0, 0);
  loraForm->addRow(tr("Target modules:"), targets);
  m_adapted = new QLabel(m_loraBox);
  m_adapted->setWordWrap(true);
  m_adapted->setStyleSheet(QStringLiteral("color:#555"));
  loraForm->addRow(QString(), m_adapted);
  layout->addWidget(m_loraBox);

  auto* countBox = new QGroupBox(tr("Parameters"), this);
  auto* countForm = new QFormLayout(countBox);
  m_total = new QLabel(countBox);
  m_trainable = new QLabel(countBox);
  m_share = new QLabel(countBox);
  QFont big = m_trainable->font();
  big.setPointSizeF(big.pointSizeF() * 1.4);
  big.setBold(true);
  m_trainable->setFont(big);
  m_share->setFont(big);
  countForm->addRow(tr("Model:"), m_total);
  countForm->addRow(tr("Trainable:"), m_trainable);
  countForm->addRow(tr("Share trained:"), m_share);
  layout->addWidget(countBox);
  layout->addStretch(1);

  auto comboKey = [this](QComboBox* box, const QString& key) {
    connect(box, &QComboBox::currentIndexChanged, this, [this, box, key] {
      if (m_loading) return;
      m_context.draft->setValue(key, box->currentData().toString().toStdString());
    });
  };
  comboKey(m_source, QStringLiteral("model.source"));
  comboKey(m_task, QStringLiteral("model.task"));
  comboKey(m_mode, QStringLiteral("train.mode"));
  comboKey(m_attention, QStringLiteral("attention.kind"));
  connect(m_rank, &QSpinBox::valueChanged, this, [this](int v) {
    if (!m_loading) m_context.draft->setValue(QStringLiteral("lora.r"), v);
  });
  connect(m_alpha, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    if (!m_loading) m_context.draft->setValue(QStringLiteral("lora.alpha"), v);
  });
  connect(m_dropout, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    if (!m_loading) m_context.draft->setValue(QStringLiteral("lora.dropout"), v);
  });
  connect(m_temperature, &QDoubleSpinBox::valueChanged, this, [this](double v) {
    if (!m_loading) m_context.draft->setValue(QStringLiteral("attention.temperature"), v);
  });
  connect(m_rslora, &QCheckBox::toggled, this, [this](bool on) {
    if (!m_loading) m_context.draft->setValue(QStringLiteral("lora.rslora"), on);
  });

  connect(m_context.draft, &ConfigDraft::documentReplaced, this, &ModelPage::loadFromDraft);
  connect(m_context.draft, &ConfigDraft::valueChanged, this, [this](const QString& key) {
    if (key.startsWith(QLatin1String("model.")) || key.startsWith(QLatin1String("lora.")) ||
        key == QLatin1String("train.mode") || key.startsWith(QLatin1String("attention.")) ||
        key == QLatin1String("data.dataset"))
      loadFromDraft();
  });
  connect(m_context.session, &ProjectSession::runsChanged, this, &ModelPage::refreshSources);
  connect(m_summarizer, &ModelSummarizer::summaryReady, this, &ModelPage::showSummary);
  connect(m_summarizer, &ModelSummarizer::summaryFailed, this, &ModelPage::showSummaryError);
  refreshSources();
  loadFromDraft();
}

void ModelPage::refreshSources() {
  const QString current = m_source->currentData().toString();
  m_loading = true;
  m_source->clear();
  for (const auto& preset : ModelSummarizer::presets())
    m_source->addItem(tr("Preset: %1").arg(preset.first),
                      QStringLiteral("preset:%1").arg(preset.first));
  for (const auto& r : m_context.session->runs()) {
    // Runs with weights to start from: completed, or resumable (they have a checkpoint or can
    // make one).
    if (r.status != deeptune::RunStatus::kCompleted && !deeptune::is_resumable(r)) continue;
    m_source->addItem(tr("Run: %1 (its latest weights)").arg(QString::fromStdString(r.name)),
                      QStringLiteral("run:%1").arg(QString::fromStdString(r.name)));
  }
  m_loading = false;
  const QString wanted = jsonString(m_context.draft->value(QStringLiteral("model.source")));
  int index = m_source->findData(wanted.isEmpty() ? current : wanted);
  if (index < 0 && !wanted.isEmpty()) {
    // A source the project does not offer (yet): keep it visible rather than change it silently.
    m_source->addItem(wanted, wanted);
    index = m_source->count() - 1;
  }
  m_loading = true;
  m_source->setCurrentIndex(qMax(index, 0));
  m_loading = false;
}

void ModelPage::loadFromDraft() {
  const ConfigDraft& d = *m_context.draft;
  m_loading = true;
  auto select = [](QComboBox* box, const QString& value) {
    const int i = box->findData(value);
    if (i >= 0) box->setCurrentIndex(i);
  };
  m_loading = false;
  refreshSources();
  m_loading = true;
  select(m_task, jsonString(d.value(QStringLiteral("model.task"))));
  select(m_mode, jsonString(d.value(QStringLiteral("train.mode"))));
  select(m_attention, jsonString(d.value(QStringLiteral("attention.kind"))));
  m_temperature->setValue(d.value(QStringLiteral("attention.temperature")).get<double>());
  m_temperature->setEnabled(m_attention->currentData().toString() == QLatin1String("temperature"));
  m_rank->setValue(d.value(QStringLiteral("lora.r")).get<int>());
  m_alpha->setValue(d.value(QStringLiteral("lora.alpha")).get<double>());
  m_dropout->setValue(d.value(QStringLiteral("lora.dropout")).get<double>());
  m_rslora->setChecked(d.value(QStringLiteral("lora.rslora")).get<bool>());
  const auto targets = d.value(QStringLiteral("lora.targets"));
  for (auto it = m_targetBoxes.begin(); it != m_targetBoxes.end(); ++it) {
    bool on = false;
    if (targets.is_array())
      for (const auto& t : targets)
        if (t.is_string() && QString::fromStdString(t.get<std::string>()) == it.key()) on = true;
    it.value()->setChecked(on);
  }
  m_loraBox->setEnabled(m_mode->currentData().toString() == QLatin1String("lora"));
  m_loading = false;
  requestSummary();
}

void ModelPage::writeTargets() {
  if (m_loading) return;
  nlohmann::json list = nlohmann::json::array();
  for (auto it = m_targetBoxes.begin(); it != m_targetBoxes.end(); ++it)
    if (it.value()->isChecked()) list.push_back(it.key().toStdString());
  m_context.draft->setValue(QStringLiteral("lora.targets"), list);
}

void ModelPage::requestSummary() {
  m_trainable->setText(tr("computing…"));
  m_summarizer->request(m_context.draft->document());
}

void ModelPage::showSummaryError(const UserMessage& message) {
  m_total->setText(QString());
  m_trainable->setText(QString());
  m_share->setText(QString());
  m_description->setText(message.headline + QLatin1Char('\n') + message.detail);
  m_description->setStyleSheet(QStringLiteral("color:#b02020"));
}

void ModelPage::showSummary(const deeptune::ModelSummary& r) {
  m_summary = r;
  m_description->setStyleSheet(QStringLiteral("color:#555"));
  m_description->setText(QString::fromStdString(r.description));
  const QLocale locale;
  m_total->setText(tr("%1 parameters").arg(locale.toString(qlonglong(r.total_parameters))));
  m_trainable->setText(locale.toString(qlonglong(r.trainable_parameters)));
  m_share->setText(QStringLiteral("%1 %").arg(
      QString::number(100.0 * r.trainable_share, 'f', r.trainable_share < 0.01 ? 3 : 2)));
  m_adapted->setText(
      tr("%n module(s) adapted", nullptr, static_cast<int>(r.adapted_modules.size())));

  // Rebuild the check boxes when the model's module names differ from those shown.
  QStringList choices;
  for (const auto& c : r.target_choices) choices << QString::fromStdString(c);
  QStringList sorted = choices;
  sorted.sort();
  if (sorted != m_targetBoxes.keys() || m_targetBoxes.isEmpty()) {
    for (QCheckBox* box : std::as_const(m_targetBoxes)) box->deleteLater();
    m_targetBoxes.clear();
    int i = 0;
    for (const QString& name : choices) {
      auto* box = new QCheckBox(name, this);
      m_targetGrid->addWidget(box, i / 4, i % 4);
      ++i;
      m_targetBoxes.insert(name, box);
      connect(box, &QCheckBox::toggled, this, &ModelPage::writeTargets);
    }
    m_loading = true;
    const auto targets = m_context.draft->value(QStringLiteral("lora.targets"));
    for (auto it = m_targetBoxes.begin(); it != m_targetBoxes.end(); ++it)
      for (const auto& t : targets)
        if (t.is_string() && QString::fromStdString(t.get<std::string>()) == it.key())
          it.value()->setChecked(true);
    m_loading = false;
  }
  Q_EMIT summaryUpdated();
}

QString ModelPage::summaryText() const {
  return m_trainable->text() + QLatin1Char(' ') + m_share->text();
}
