// The page only collects options and shows what PlaygroundService streams back; the model loads
// when the page is shown or another model is chosen, and stays loaded between generations.
#include "playgroundpage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>
#include <limits>
#include <nlohmann/json.hpp>

#include "filedialogs.h"
#include "hfmodelscanner.h"
#include "messagebanner.h"
#include "projectsession.h"

namespace {

constexpr int kRunRole = Qt::UserRole;         // qint64: the run's id, 0 for a folder
constexpr int kFolderRole = Qt::UserRole + 1;  // QString: the model folder

// Runs the Playground can generate with: causal LMs with a checkpoint.
bool isGenerative(const deeptune::RunRecord& run) {
  if (run.checkpoint_step < 0) return false;
  try {
    const auto config = nlohmann::json::parse(run.config_json);
    const nlohmann::json::json_pointer task("/model/task");
    return !config.contains(task) || config.at(task) != "classification";
  } catch (const std::exception&) {
    return false;
  }
}

QDoubleSpinBox* doubleBox(QWidget* parent, double min, double max, double step, double value) {
  auto* box = new QDoubleSpinBox(parent);
  box->setRange(min, max);
  box->setDecimals(2);
  box->setSingleStep(step);
  box->setValue(value);
  return box;
}

QSpinBox* intBox(QWidget* parent, int min, int max, int value) {
  auto* box = new QSpinBox(parent);
  box->setRange(min, max);
  box->setValue(value);
  return box;
}

}  // namespace

PlaygroundPage::PlaygroundPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent),
      m_context(context),
      m_service(new PlaygroundService(this)),
      m_scanner(new HfModelScanner(nullptr, this)) {
  auto* layout = new QVBoxLayout(this);

  auto* modelRow = new QHBoxLayout;
  modelRow->addWidget(new QLabel(tr("Model:"), this));
  m_model = new QComboBox(this);
  m_model->setMinimumContentsLength(32);
  m_model->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  modelRow->addWidget(m_model, 1);
  auto* folder = new QPushButton(tr("Open model folder…"), this);
  modelRow->addWidget(folder);
  layout->addLayout(modelRow);
  m_description = new QLabel(this);
  m_description->setWordWrap(true);
  m_description->setStyleSheet(QStringLiteral("color:#555"));
  layout->addWidget(m_description);
  m_banner = new MessageBanner(this);
  layout->addWidget(m_banner);

  m_prompt = new QPlainTextEdit(this);
  m_prompt->setPlaceholderText(tr("Type a prompt…"));
  m_prompt->setMaximumHeight(110);
  layout->addWidget(m_prompt);

  auto* optionsRow = new QHBoxLayout;
  auto* sampling = new QFormLayout;
  m_temperature = doubleBox(this, 0.0, 5.0, 0.1, 0.0);
  m_temperature->setToolTip(tr("0 picks the most likely token every time (greedy)."));
  sampling->addRow(tr("Temperature:"), m_temperature);
  m_topP = doubleBox(this, 0.0, 1.0, 0.05, 1.0);
  m_topP->setToolTip(
      tr("Sample from the smallest set of tokens whose probabilities add up to "
         "this; 1: no limit."));
  sampling->addRow(tr("Top-p:"), m_topP);
  m_topK = intBox(this, 0, 100000, 0);
  m_topK->setToolTip(tr("Sample from this many most likely tokens; 0: no limit."));
  sampling->addRow(tr("Top-k:"), m_topK);
  optionsRow->addLayout(sampling);
  auto* lengths = new QFormLayout;
  m_repetition = doubleBox(this, 0.0, 5.0, 0.05, 1.0);
  m_repetition->setToolTip(tr("Above 1 makes tokens already in the text less likely; 1: none."));
  lengths->addRow(tr("Repetition penalty:"), m_repetition);
  m_maxTokens = intBox(this, 1, 1 << 20, 128);
  lengths->addRow(tr("Max new tokens:"), m_maxTokens);
  m_seed = intBox(this, 0, std::numeric_limits<int>::max(), 0);
  m_seed->setToolTip(tr("The same seed gives the same text when sampling."));
  lengths->addRow(tr("Seed:"), m_seed);
  optionsRow->addLayout(lengths);
  auto* right = new QFormLayout;
  m_stopStrings = new QPlainTextEdit(this);
  m_stopStrings->setPlaceholderText(tr("comma or newline separated"));
  m_stopStrings->setToolTip(
      tr("Generation ends before any of these strings. Separate them with commas or newlines; "
         "\\n stands for a newline, \\, for a comma, a backslash before a space keeps it."));
  m_stopStrings->setMaximumHeight(56);
  right->addRow(tr("Stop strings:"), m_stopStrings);
  m_chat = new QCheckBox(tr("Chat (the model's chat template)"), this);
  right->addRow(QString(), m_chat);
  m_sideBySide = new QCheckBox(tr("Side by side: base and tuned"), this);
  right->addRow(QString(), m_sideBySide);
  optionsRow->addLayout(right, 1);
  layout->addLayout(optionsRow);

  auto* actions = new QHBoxLayout;
  m_generate = new QPushButton(tr("Generate"), this);
  m_generate->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
  m_generate->setToolTip(m_generate->shortcut().toString(QKeySequence::NativeText));
  m_stop = new QPushButton(tr("Stop"), this);
  m_status = new QLabel(this);
  actions->addWidget(m_generate);
  actions->addWidget(m_stop);
  actions->addWidget(m_status, 1);
  layout->addLayout(actions);

  auto* outputs = new QSplitter(Qt::Horizontal, this);
  m_base = makePane(tr("Base model"));
  m_tuned = makePane(tr("Output"));
  outputs->addWidget(m_base.box);
  outputs->addWidget(m_tuned.box);
  m_base.box->hide();
  layout->addWidget(outputs, 1);

  connect(folder, &QPushButton::clicked, this, [this] {
    const QString dir = chooseFolder(this, tr("Open model folder"), QString());
    if (!dir.isEmpty()) addFolder(dir);
  });
  connect(m_model, &QComboBox::currentIndexChanged, this, [this] {
    if (isVisible()) loadCurrent();
    updateButtons();
  });
  connect(m_generate, &QPushButton::clicked, this, &PlaygroundPage::generate);
  connect(m_stop, &QPushButton::clicked, this, &PlaygroundPage::stop);

  connect(m_context.session, &ProjectSession::runsChanged, this, &PlaygroundPage::refreshModels);
  // A run of the project that closed is no use to the next one: its memory is freed now.
  const auto forgetRuns = [this] {
    m_service->unload();
    m_requested.clear();
    refreshModels();
  };
  connect(m_context.session, &ProjectSession::opened, this, forgetRuns);
  connect(m_context.session, &ProjectSession::closed, this, forgetRuns);
  connect(m_scanner, &HfModelScanner::cacheScanned, this,
          [this](const QString&, const QList<deeptune::HfModelInfo>& models) {
            for (const auto& m : models)
              if (m.problem.empty())
                addFolder(QString::fromStdString(m.path), false, QString::fromStdString(m.name));
          });

  connect(m_service, &PlaygroundService::modelLoaded, this, &PlaygroundPage::showModel);
  connect(m_service, &PlaygroundService::loadFailed, this, [this](const UserMessage& message) {
    m_requested.clear();  // the next show or Generate tries again
    m_description->clear();
    m_banner->showMessage(MessageBanner::Kind::kError, message.headline, message.detail);
  });
  connect(m_service, &PlaygroundService::textGenerated, this,
          [this](quint64 ticket, bool tuned, const QString& text) {
            if (ticket != m_ticket) return;
            QPlainTextEdit* edit = pane(tuned).text;
            QTextCursor end(edit->document());
            end.movePosition(QTextCursor::End);
            end.insertText(text);
            edit->verticalScrollBar()->setValue(edit->verticalScrollBar()->maximum());
          });
  connect(m_service, &PlaygroundService::outputFinished, this,
          [this](quint64 ticket, const PlaygroundOutput& output) {
            if (ticket == m_ticket) showOutput(output);
          });
  connect(m_service, &PlaygroundService::generationFailed, this,
          [this](quint64 ticket, const UserMessage& message) {
            if (ticket != m_ticket) return;
            m_requested.clear();
            m_banner->showMessage(MessageBanner::Kind::kError, message.headline, message.detail);
          });
  connect(m_service, &PlaygroundService::generationFinished, this, [this](quint64 ticket) {
    if (ticket != m_ticket) return;
    m_ticket = 0;
    m_status->clear();
    updateButtons();
    Q_EMIT generationFinished(ticket);
  });
  refreshModels();
}

PlaygroundPage::Pane PlaygroundPage::makePane(const QString& title) {
  Pane p;
  p.box = new QGroupBox(title, this);
  auto* layout = new QVBoxLayout(p.box);
  p.text = new QPlainTextEdit(p.box);
  p.text->setReadOnly(true);
  p.stats = new QLabel(p.box);
  p.stats->setStyleSheet(QStringLiteral("color:#555"));
  layout->addWidget(p.text, 1);
  layout->addWidget(p.stats);
  return p;
}

namespace {
// What a load of `model` at the run's current checkpoint asks for: a newer checkpoint differs.
QString modelKey(const PlaygroundModel& model, const ProjectSession& session) {
  if (!model.isRun()) return QStringLiteral("folder ") + model.folder;
  const auto run = session.run(model.runId);
  return QStringLiteral("run %1 %2").arg(model.runId).arg(run ? run->checkpoint_step : -1);
}
}  // namespace

void PlaygroundPage::refreshModels() {
  const QVariant currentRun = m_model->currentData(kRunRole);
  const QString currentFolder = m_model->currentData(kFolderRole).toString();
  const QSignalBlocker block(m_model);
  m_model->clear();
  for (const auto& r : m_context.session->runs()) {
    if (!isGenerative(r)) continue;
    m_model->addItem(
        tr("%1 (run, step %2)").arg(QString::fromStdString(r.name)).arg(r.checkpoint_step),
        QVariant::fromValue<qint64>(r.id));
  }
  for (const auto& [name, path] : m_folders) {
    m_model->addItem(tr("%1 (folder)").arg(name), QVariant::fromValue<qint64>(0));
    m_model->setItemData(m_model->count() - 1, path, kFolderRole);
    m_model->setItemData(m_model->count() - 1, QDir::toNativeSeparators(path), Qt::ToolTipRole);
  }
  const int index = currentRun.toLongLong() != 0 ? m_model->findData(currentRun, kRunRole)
                                                 : m_model->findData(currentFolder, kFolderRole);
  m_model->setCurrentIndex(qMax(0, index));
  // A deleted run gives way to the first model, a newer checkpoint is loaded now; neither while a
  // generation runs (it checks the run itself).
  if (isVisible() && m_ticket == 0) loadCurrent();
  updateButtons();
}

bool PlaygroundPage::selectRun(qint64 runId) {
  const int index = m_model->findData(QVariant::fromValue<qint64>(runId), kRunRole);
  if (index < 0) return false;
  m_model->setCurrentIndex(index);
  return true;
}

void PlaygroundPage::addFolder(const QString& folder, bool select, const QString& name) {
  const QString path = QDir::cleanPath(QFileInfo(folder).absoluteFilePath());
  if (m_model->findData(path, kFolderRole) < 0) {
    m_folders.append({name.isEmpty() ? QFileInfo(path).fileName() : name, path});
    refreshModels();
  }
  if (select || m_model->count() == 1)
    m_model->setCurrentIndex(m_model->findData(path, kFolderRole));
}

PlaygroundModel PlaygroundPage::currentModel() const {
  PlaygroundModel model;
  if (m_model->currentIndex() < 0) return model;
  model.runId = m_model->currentData(kRunRole).toLongLong();
  if (model.isRun())
    model.projectPath = m_context.session->path();
  else
    model.folder = m_model->currentData(kFolderRole).toString();
  return model;
}

void PlaygroundPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (!m_cacheScanned) {  // the cache is listed once, when the page is first needed
    m_cacheScanned = true;
    m_scanner->scanCache();
  }
  loadCurrent();
}

void PlaygroundPage::loadCurrent() {
  const PlaygroundModel model = currentModel();
  if (!model.isValid()) {
    if (!m_requested.isEmpty()) m_service->unload();
    m_requested.clear();
    m_description->clear();
    return;
  }
  const QString key = modelKey(model, *m_context.session);
  if (key == m_requested) return;
  m_requested = key;
  m_description->setText(tr("Loading the model…"));
  m_service->load(model);
}

void PlaygroundPage::showModel(const PlaygroundModelInfo& info) {
  m_description->setText(
      tr("%1 · context %2 tokens").arg(info.description).arg(info.contextLength));
  m_chat->setEnabled(info.hasChatTemplate);
  if (!info.hasChatTemplate) m_chat->setChecked(false);
  m_chat->setToolTip(info.hasChatTemplate ? QString()
                                          : tr("This model has no chat template we know."));
  m_sideBySide->setEnabled(info.hasBase);
  if (!info.hasBase) m_sideBySide->setChecked(false);
  m_sideBySide->setToolTip(info.hasBase ? tr("The same prompt through the base model (adapter "
                                             "off) and through the tuned run (adapter on).")
                                        : tr("Only a run has a base model to compare with."));
  if (info.contextLength > 0)
    m_maxTokens->setMaximum(static_cast<int>(qMin<qint64>(info.contextLength, 1 << 20)));
}

deeptune::GenerateOptions PlaygroundPage::options() const {
  deeptune::GenerateOptions o;
  o.max_new_tokens = m_maxTokens->value();
  o.temperature = m_temperature->value();
  o.top_k = m_topK->value();
  o.top_p = m_topP->value();
  o.repetition_penalty = m_repetition->value();
  o.seed = static_cast<uint64_t>(m_seed->value());
  o.chat = m_chat->isEnabled() && m_chat->isChecked();
  o.stop = parseStopStrings(m_stopStrings->toPlainText());
  return o;
}

quint64 PlaygroundPage::generate() {
  if (m_ticket != 0) return 0;
  m_banner->clearMessage();
  const PlaygroundModel model = currentModel();
  if (!model.isValid()) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("Choose a model first"),
                          tr("Train a causal language model run, or open a model folder."));
    return 0;
  }
  const bool sideBySide = m_sideBySide->isEnabled() && m_sideBySide->isChecked();
  const quint64 ticket = m_service->generate(model, m_prompt->toPlainText(), options(), sideBySide);
  if (ticket == 0) return 0;
  m_ticket = ticket;
  m_requested = modelKey(model, *m_context.session);  // the generation loads it
  m_base.box->setVisible(sideBySide);
  m_tuned.box->setTitle(sideBySide ? tr("Tuned run") : tr("Output"));
  for (Pane* p : {&m_base, &m_tuned}) {
    p->text->clear();
    p->stats->clear();
  }
  m_status->setText(tr("Generating…"));
  updateButtons();
  return ticket;
}

void PlaygroundPage::stop() {
  if (m_ticket == 0) return;
  m_service->stop();
  m_status->setText(tr("Stopping…"));
}

void PlaygroundPage::showOutput(const PlaygroundOutput& output) {
  Pane& p = pane(output.tuned);
  p.text->setPlainText(output.text);
  p.stats->setText(tr("%n token(s) · %1 tokens/s · %2", nullptr, output.outputTokens)
                       .arg(output.tokensPerSecond(), 0, 'f', 1)
                       .arg(stopReasonText(output.stopReason)));
}

void PlaygroundPage::updateButtons() {
  m_generate->setEnabled(m_ticket == 0 && m_model->count() > 0);
  m_stop->setEnabled(m_ticket != 0);
}

std::vector<std::string> PlaygroundPage::parseStopStrings(const QString& text) {
  std::vector<std::string> out;
  QString current;
  qsizetype firstEscaped = -1, lastEscaped = -1;  // escaped characters are never trimmed
  const auto finish = [&] {
    qsizetype begin = 0, end = current.size();
    while (begin < end && (firstEscaped < 0 || begin < firstEscaped) && current[begin].isSpace())
      ++begin;
    while (end > begin && end - 1 > lastEscaped && current[end - 1].isSpace()) --end;
    if (end > begin) out.push_back(current.mid(begin, end - begin).toStdString());
    current.clear();
    firstEscaped = lastEscaped = -1;
  };
  for (qsizetype i = 0; i < text.size(); ++i) {
    const QChar c = text.at(i);
    if (c == QLatin1Char(',') || c == QLatin1Char('\n')) {
      finish();
      continue;
    }
    if (c != QLatin1Char('\\') || i + 1 == text.size()) {
      current += c;
      continue;
    }
    const QChar e = text.at(++i);
    if (firstEscaped < 0) firstEscaped = current.size();
    lastEscaped = current.size();
    if (e == QLatin1Char('n'))
      current += QLatin1Char('\n');
    else if (e == QLatin1Char('t'))
      current += QLatin1Char('\t');
    else if (e == QLatin1Char(',') || e == QLatin1Char('\\') || e == QLatin1Char(' '))
      current += e;
    else  // not an escape: kept as typed
      current += QLatin1Char('\\') + QString(e);
  }
  finish();
  return out;
}

QString PlaygroundPage::stopReasonText(const QString& reason) {
  if (reason == QLatin1String("eos")) return tr("ended by the model");
  if (reason == QLatin1String("stop")) return tr("stop string reached");
  if (reason == QLatin1String("length")) return tr("max new tokens reached");
  if (reason == QLatin1String("context")) return tr("context full");
  if (reason == QLatin1String("callback")) return tr("stopped");
  return reason;
}
