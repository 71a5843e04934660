// Summaries come from the ModelSummarizer (app/): computed in the background, only the newest
// request's result shown. The Hugging Face cache is listed by the HfModelScanner, also in the
// background; a model folder becomes model.source as its absolute path.
#include "modelpage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include "configdraft.h"
#include "filedialogs.h"
#include "hfmodelsmodel.h"
#include "memoryforecastlabel.h"
#include "messagebanner.h"
#include "projectsession.h"

namespace {

QString jsonString(const nlohmann::json& j) {
  return j.is_string() ? QString::fromStdString(j.get<std::string>()) : QString();
}

// preset:NAME and run:NAME name their kind; anything else is a model folder's path.
bool isFolderSource(const QString& source) {
  return !source.isEmpty() && !source.contains(QLatin1Char(':'));
}

}  // namespace

ModelPage::ModelPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent),
      m_context(context),
      m_summarizer(new ModelSummarizer(context.session, this)),
      m_scanner(new HfModelScanner(context.session, this)),
      m_cached(new HfModelsModel(this)) {
  auto* layout = new QVBoxLayout(this);
  m_banner = new MessageBanner(this);
  layout->addWidget(m_banner);
  auto* baseBox = new QGroupBox(tr("Base model"), this);
  auto* baseForm = new QFormLayout(baseBox);
  m_source = new QComboBox(baseBox);
  m_source->setMinimumContentsLength(28);
  auto* openFolder = new QPushButton(tr("Open model folder…"), baseBox);
  openFolder->setObjectName(QStringLiteral("openModelFolder"));
  openFolder->setToolTip(
      tr("A Hugging Face model folder: config.json with its *.safetensors weights"));
  auto* sourceRow = new QHBoxLayout;
  sourceRow->addWidget(m_source, 1);
  sourceRow->addWidget(openFolder);
  baseForm->addRow(tr("Start from:"), sourceRow);
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

  auto* cacheBox = new QGroupBox(tr("Hugging Face models on this computer"), this);
  auto* cacheLayout = new QVBoxLayout(cacheBox);
  auto* cacheTop = new QHBoxLayout;
  m_cacheNote = new QLabel(cacheBox);
  m_cacheNote->setWordWrap(true);
  m_cacheNote->setStyleSheet(QStringLiteral("color:#555"));
  m_cacheNote->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* rescan = new QPushButton(tr("Look again"), cacheBox);
  rescan->setToolTip(tr("List the Hugging Face cache again, e.g. after a download"));
  cacheTop->addWidget(m_cacheNote, 1);
  cacheTop->addWidget(rescan);
  cacheLayout->addLayout(cacheTop);
  auto* sorted = new QSortFilterProxyModel(this);
  sorted->setSourceModel(m_cached);
  sorted->setSortRole(HfModelsModel::kSortRole);
  sorted->setSortCaseSensitivity(Qt::CaseInsensitive);
  m_cachedView = new QTableView(cacheBox);
  m_cachedView->setObjectName(QStringLiteral("cachedModels"));
  m_cachedView->setModel(sorted);
  m_cachedView->setSortingEnabled(true);
  m_cachedView->sortByColumn(HfModelsModel::kName, Qt::AscendingOrder);
  m_cachedView->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_cachedView->setSelectionMode(QAbstractItemView::SingleSelection);
  m_cachedView->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_cachedView->verticalHeader()->hide();
  m_cachedView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  m_cachedView->horizontalHeader()->setSectionResizeMode(HfModelsModel::kName,
                                                         QHeaderView::Stretch);
  m_cachedView->setMinimumHeight(m_cachedView->verticalHeader()->defaultSectionSize() * 4);
  m_cachedView->setMaximumHeight(m_cachedView->verticalHeader()->defaultSectionSize() * 7);
  cacheLayout->addWidget(m_cachedView);
  layout->addWidget(cacheBox);

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
  // The training step's memory with these choices, on the device the config trains on.
  m_memory = new MemoryForecastLabel(countBox);
  countForm->addRow(m_memory);
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
    else if (key == QLatin1String("train.micro_batch_size") ||
             key == QLatin1String("train.batch_size") || key == QLatin1String("data.max_length") ||
             key == QLatin1String("train.precision") || key == QLatin1String("device"))
      requestSummary();  // the counts stay; the memory forecast changes
  });
  connect(m_context.session, &ProjectSession::runsChanged, this, &ModelPage::refreshSources);
  connect(m_summarizer, &ModelSummarizer::summaryReady, this, &ModelPage::showSummary);
  connect(m_summarizer, &ModelSummarizer::summaryFailed, this, &ModelPage::showSummaryError);

  connect(openFolder, &QPushButton::clicked, this, [this] {
    const QString source = jsonString(m_context.draft->value(QStringLiteral("model.source")));
    const QString start =
        isFolderSource(source) ? QFileInfo(source).absolutePath() : HfModelScanner::hubDir();
    const QString folder = chooseFolder(this, tr("Open model folder"),
                                        QDir(start).exists() ? start : QDir::homePath());
    if (!folder.isEmpty()) openModelFolder(folder);
  });
  connect(rescan, &QPushButton::clicked, this, &ModelPage::rescanCache);
  connect(m_cachedView, &QTableView::clicked, this, &ModelPage::chooseCachedRow);
  connect(m_cachedView, &QTableView::activated, this, &ModelPage::chooseCachedRow);
  connect(m_scanner, &HfModelScanner::cacheScanned, this, &ModelPage::showCache);
  connect(m_scanner, &HfModelScanner::cacheScanFailed, this,
          [this](const QString& hubDir, const UserMessage& message) {
            showCache(hubDir, {});
            m_banner->showMessage(MessageBanner::Kind::kError, message.headline, message.detail);
          });
  connect(m_scanner, &HfModelScanner::folderInspected, this, &ModelPage::chooseFolderModel);
  connect(m_scanner, &HfModelScanner::folderRefused, this,
          [this](const QString&, const UserMessage& message) {
            m_banner->showMessage(MessageBanner::Kind::kError, message.headline, message.detail);
            Q_EMIT sourceChoiceHandled();
          });
  refreshSources();
  loadFromDraft();
  rescanCache();
}

void ModelPage::rescanCache() {
  m_cacheNote->setText(
      tr("Looking in %1…").arg(QDir::toNativeSeparators(HfModelScanner::hubDir())));
  m_scanner->scanCache();
}

void ModelPage::showCache(const QString& hubDir, const QList<deeptune::HfModelInfo>& models) {
  m_cached->setModels(models);
  for (const auto& m : models)
    m_folderNames.insert(QString::fromStdString(m.path), QString::fromStdString(m.name));
  const QString where = QDir::toNativeSeparators(hubDir);
  if (models.isEmpty())
    m_cacheNote->setText(tr("No models in %1. Models downloaded with the Hugging Face tools "
                            "(huggingface-cli download, transformers) appear here.")
                             .arg(where));
  else
    m_cacheNote->setText(tr("%n model(s) in %1; choose one to start from it.", nullptr,
                            static_cast<int>(models.size()))
                             .arg(where));
  refreshSources();  // a folder source may now be named by its repository
  Q_EMIT cacheListed();
}

void ModelPage::openModelFolder(const QString& folder) {
  m_scanner->inspectFolder(folder);
}

void ModelPage::chooseCachedRow(const QModelIndex& index) {
  const auto* proxy = static_cast<const QSortFilterProxyModel*>(m_cachedView->model());
  const deeptune::HfModelInfo* model = m_cached->modelAt(proxy->mapToSource(index).row());
  if (model) chooseFolderModel(*model);
}

void ModelPage::chooseFolderModel(const deeptune::HfModelInfo& model) {
  const QString path = QString::fromStdString(model.path);
  if (!model.problem.empty()) {
    m_banner->showMessage(
        MessageBanner::Kind::kError,
        tr("%1 cannot be used as a base model").arg(QString::fromStdString(model.name)),
        QString::fromStdString(model.problem));
    selectSourceRow();  // the table keeps showing what the draft starts from
    Q_EMIT sourceChoiceHandled();
    return;
  }
  m_banner->clearMessage();
  if (!m_folderNames.contains(path)) m_folderNames.insert(path, QString::fromStdString(model.name));
  m_context.draft->setValue(QStringLiteral("model.source"), path.toStdString());
  Q_EMIT sourceChoiceHandled();
}

QString ModelPage::folderSourceLabel(const QString& path) const {
  const QString name = m_folderNames.value(path, QFileInfo(path).fileName());
  return tr("Hugging Face: %1").arg(name);
}

void ModelPage::selectSourceRow() {
  const QString source = jsonString(m_context.draft->value(QStringLiteral("model.source")));
  const int row = isFolderSource(source) ? m_cached->rowOfPath(source) : -1;
  const auto* proxy = static_cast<const QSortFilterProxyModel*>(m_cachedView->model());
  if (row < 0) {
    m_cachedView->clearSelection();
    return;
  }
  const QModelIndex index = proxy->mapFromSource(m_cached->index(row, 0));
  m_cachedView->selectionModel()->setCurrentIndex(
      index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  m_cachedView->scrollTo(index);
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
    // A model folder, or a source the project does not offer (yet): keep it visible rather than
    // change it silently.
    m_source->addItem(isFolderSource(wanted) ? folderSourceLabel(wanted) : wanted, wanted);
    m_source->setItemData(m_source->count() - 1, wanted, Qt::ToolTipRole);
    index = m_source->count() - 1;
  }
  m_loading = true;
  m_source->setCurrentIndex(qMax(index, 0));
  m_loading = false;
  selectSourceRow();
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
  m_memory->setUnavailable(message.headline);
  m_description->setText(message.headline + QLatin1Char('\n') + message.detail);
  m_description->setStyleSheet(QStringLiteral("color:#b02020"));
}

void ModelPage::showSummary(const deeptune::ModelSummary& r, const MemoryForecastPair& memory) {
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
  const auto micro = m_context.draft->value(QStringLiteral("train.micro_batch_size"));
  m_memory->setForecast(memory, micro.is_string() || (micro.is_number() && micro == 0));

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
