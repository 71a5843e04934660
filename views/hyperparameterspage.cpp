// One row per key: label, editor, hard range, recommended range, mark. Numbers are typed into
// line edits rather than spin boxes on purpose: a spin box clamps, and the page must be able to
// show an out-of-range value as marked instead of silently changing it. For the same reason the
// micro-batch takes "auto" as typed text rather than a spin box's special value. The forecast is
// asked for a moment after the last edit (typing a number is one request, not one per digit) and
// only while the page is visible. A list key is typed as text too: one item per line where items
// are free text (probe texts), comma-separated otherwise (row numbers); an item the engine rejects
// stays in the draft and is marked like a number out of range.
#include "hyperparameterspage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QShowEvent>
#include <QVBoxLayout>
#include <cmath>

#include "configdraft.h"
#include "memoryforecaster.h"
#include "memoryforecastlabel.h"
#include "messagebanner.h"
#include "projectsession.h"

namespace {

struct KeyText {
  const char* key;
  const char* group;
  const char* label;
  const char* help;
  bool linePerItem = false;  // a list key edited one item per line instead of comma-separated
};

// Labels and help for the keys this page edits, translated here (the engine's help is English).
const KeyText kKeys[] = {
    {"seed", QT_TRANSLATE_NOOP("HyperparametersPage", "General"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Random seed"),
     QT_TRANSLATE_NOOP("HyperparametersPage",
                       "Same seed, data and config give the same run (split, init, order)")},
    {"device", QT_TRANSLATE_NOOP("HyperparametersPage", "General"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Device"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "auto uses the GPU when one is present")},
    {"data.val_fraction", QT_TRANSLATE_NOOP("HyperparametersPage", "Data"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Validation share"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Share of rows held out to measure generalisation")},
    {"data.max_length", QT_TRANSLATE_NOOP("HyperparametersPage", "Data"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Maximum length (tokens)"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Longer examples are truncated")},
    {"train.lr", QT_TRANSLATE_NOOP("HyperparametersPage", "Optimisation"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Learning rate"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Peak learning rate of AdamW after warm-up")},
    {"train.batch_size", QT_TRANSLATE_NOOP("HyperparametersPage", "Optimisation"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Batch size"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Examples per optimizer step")},
    {"train.micro_batch_size", QT_TRANSLATE_NOOP("HyperparametersPage", "Optimisation"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Micro-batch size"),
     QT_TRANSLATE_NOOP("HyperparametersPage",
                       "Examples per forward pass; the batch is accumulated from micro-batches")},
    {"train.weight_decay", QT_TRANSLATE_NOOP("HyperparametersPage", "Optimisation"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Weight decay"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Decoupled decay on weight matrices")},
    {"train.grad_clip", QT_TRANSLATE_NOOP("HyperparametersPage", "Optimisation"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Gradient clipping"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Maximum global gradient norm; 0 turns it off")},
    {"train.label_smoothing", QT_TRANSLATE_NOOP("HyperparametersPage", "Optimisation"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Label smoothing"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Share of probability spread over other tokens")},
    {"train.precision", QT_TRANSLATE_NOOP("HyperparametersPage", "Optimisation"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Precision"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "bf16 and fp16 need a GPU to pay off")},
    {"train.gradient_checkpointing", QT_TRANSLATE_NOOP("HyperparametersPage", "Optimisation"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Gradient checkpointing"),
     QT_TRANSLATE_NOOP("HyperparametersPage",
                       "Recompute activations in the backward pass instead of keeping them: off; "
                       "full (each decoder layer from its input: least memory, about a third more "
                       "compute); selective (only norms, the MLP activation and the attention "
                       "softmax)")},
    {"train.max_steps", QT_TRANSLATE_NOOP("HyperparametersPage", "Schedule"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Steps"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Optimizer steps in the run")},
    {"train.warmup_steps", QT_TRANSLATE_NOOP("HyperparametersPage", "Schedule"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Warm-up steps"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Steps of linear rise to the peak learning rate")},
    {"train.schedule", QT_TRANSLATE_NOOP("HyperparametersPage", "Schedule"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Decay"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Learning-rate shape after warm-up")},
    {"train.eval_every", QT_TRANSLATE_NOOP("HyperparametersPage", "Checks and checkpoints"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Evaluate every"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Steps between validation passes; 0 = at the end")},
    {"train.checkpoint_every", QT_TRANSLATE_NOOP("HyperparametersPage", "Checks and checkpoints"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Checkpoint every"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Steps between checkpoints; 0 = at stop and end")},
    {"train.nonfinite_patience", QT_TRANSLATE_NOOP("HyperparametersPage", "Checks and checkpoints"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "NaN steps before going back"),
     QT_TRANSLATE_NOOP("HyperparametersPage",
                       "NaN/inf steps skipped in a row before returning to the last checkpoint; "
                       "0 = fail at the first")},
    {"train.nonfinite_lr_factor",
     QT_TRANSLATE_NOOP("HyperparametersPage", "Checks and checkpoints"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Learning rate after going back"),
     QT_TRANSLATE_NOOP("HyperparametersPage",
                       "Factor applied to the learning rate at each return to a checkpoint")},
    {"probe.text", QT_TRANSLATE_NOOP("HyperparametersPage", "Attention probes"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Probe texts (one per line)"),
     QT_TRANSLATE_NOOP("HyperparametersPage",
                       "Texts whose attention maps are captured while the run trains"),
     true},
    {"probe.rows", QT_TRANSLATE_NOOP("HyperparametersPage", "Attention probes"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Dataset rows (comma-separated)"),
     QT_TRANSLATE_NOOP("HyperparametersPage",
                       "Dataset rows (numbers from 0) whose attention maps are captured; with no "
                       "text and no row, the first row")},
    {"probe.attention_every", QT_TRANSLATE_NOOP("HyperparametersPage", "Attention probes"),
     QT_TRANSLATE_NOOP("HyperparametersPage", "Capture every"),
     QT_TRANSLATE_NOOP("HyperparametersPage",
                       "Optimizer steps between attention captures (also at the first and last "
                       "step); 0 = none")},
};

// A list key's items as its editor shows them.
QString listText(const nlohmann::json& v, bool linePerItem) {
  QStringList items;
  if (v.is_array())
    for (const auto& item : v)
      items << (item.is_string() ? QString::fromStdString(item.get<std::string>())
                                 : QString::fromStdString(item.dump()));
  return items.join(linePerItem ? QStringLiteral("\n") : QStringLiteral(", "));
}

// ... and back: blank items dropped; comma-separated ones trimmed (a row number has no spaces,
// a probe text keeps its own).
nlohmann::json listValue(const QString& text, bool linePerItem) {
  nlohmann::json list = nlohmann::json::array();
  for (const QString& item : text.split(linePerItem ? QLatin1Char('\n') : QLatin1Char(','))) {
    if (item.trimmed().isEmpty()) continue;
    list.push_back((linePerItem ? item : item.trimmed()).toStdString());
  }
  return list;
}

QString formatNumber(double v) {
  if (std::isinf(v)) return QStringLiteral("∞");
  return QString::number(v, 'g', 6);
}

QString rangeText(std::optional<double> lo, std::optional<double> hi) {
  if (!lo && !hi) return QStringLiteral("—");
  return QStringLiteral("%1 … %2").arg(lo ? formatNumber(*lo) : QStringLiteral("−∞"),
                                       hi ? formatNumber(*hi) : QStringLiteral("∞"));
}

// "auto", as the JSON writes it or in the user's language.
bool isAutoText(const QString& text) {
  const QString t = text.trimmed();
  return t.compare(QLatin1String("auto"), Qt::CaseInsensitive) == 0 ||
         t.compare(HyperparametersPage::tr("auto", "micro-batch: chosen by the memory forecast"),
                   Qt::CaseInsensitive) == 0;
}

QString jsonText(const nlohmann::json& v) {
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  if (v.is_number_float()) return formatNumber(v.get<double>());
  return QString::fromStdString(v.dump());
}

}  // namespace

HyperparametersPage::HyperparametersPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent), m_context(context) {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel(tr("Preset:"), this));
  m_presets = new QComboBox(this);
  m_presets->setMinimumContentsLength(18);
  bar->addWidget(m_presets);
  auto* load = new QPushButton(tr("Load"), this);
  auto* save = new QPushButton(tr("Save as preset…"), this);
  auto* reset = new QPushButton(tr("Reset to defaults"), this);
  bar->addWidget(load);
  bar->addWidget(save);
  bar->addStretch(1);
  bar->addWidget(reset);
  layout->addLayout(bar);
  m_banner = new MessageBanner(this);
  layout->addWidget(m_banner);
  m_forecastLabel = new MemoryForecastLabel(this);
  m_forecastLabel->setContentsMargins(4, 2, 4, 2);
  layout->addWidget(m_forecastLabel);
  m_forecaster = new MemoryForecaster(m_context.session, this);
  m_forecastDelay.setSingleShot(true);
  m_forecastDelay.setInterval(kForecastDelayMs);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  auto* body = new QWidget(scroll);
  scroll->setWidget(body);
  layout->addWidget(scroll, 1);
  auto* bodyLayout = new QVBoxLayout(body);

  QGroupBox* group = nullptr;
  QGridLayout* grid = nullptr;
  QString groupName;
  int row = 0;
  for (const KeyText& k : kKeys) {
    const QString key = QString::fromLatin1(k.key);
    const auto* info = ConfigDraft::keyInfo(key);
    if (!info) continue;
    if (groupName != QLatin1String(k.group)) {
      groupName = QLatin1String(k.group);
      group = new QGroupBox(tr(k.group), body);
      grid = new QGridLayout(group);
      grid->addWidget(new QLabel(QStringLiteral("<i>%1</i>").arg(tr("Allowed")), group), 0, 2);
      grid->addWidget(new QLabel(QStringLiteral("<i>%1</i>").arg(tr("Recommended")), group), 0, 3);
      grid->setColumnStretch(4, 1);
      bodyLayout->addWidget(group);
      row = 1;
    }
    auto* label = new QLabel(tr(k.label), group);
    label->setToolTip(tr(k.help) + QStringLiteral("\n(") + key + QLatin1Char(')'));
    grid->addWidget(label, row, 0);
    QWidget* editor = nullptr;
    if (info->type == "enum") {
      auto* box = new QComboBox(group);
      for (const auto& c : info->choices) box->addItem(QString::fromStdString(c));
      connect(box, &QComboBox::currentTextChanged, this,
              [this, key](const QString& text) { commit(key, text); });
      editor = box;
    } else if (info->type == "bool") {
      auto* box = new QCheckBox(group);
      connect(box, &QCheckBox::toggled, this, [this, key](bool on) {
        commit(key, on ? QStringLiteral("true") : QStringLiteral("false"));
      });
      editor = box;
    } else if (info->type == "list" && k.linePerItem) {
      auto* edit = new QPlainTextEdit(group);
      edit->setTabChangesFocus(true);
      edit->setMaximumHeight(4 * edit->fontMetrics().lineSpacing() + 12);
      edit->setMinimumWidth(320);
      edit->setPlaceholderText(tr("none"));
      connect(edit, &QPlainTextEdit::textChanged, this,
              [this, key, edit] { commit(key, edit->toPlainText()); });
      editor = edit;
      m_linePerItem.insert(key);
    } else {
      auto* edit = new QLineEdit(group);
      edit->setMaximumWidth(info->type == "list" ? 320 : 160);
      if (info->type == "list") edit->setPlaceholderText(tr("none, or e.g. 0, 17, 42"));
      if (info->accepts_auto) edit->setPlaceholderText(tr("a number or auto"));
      connect(edit, &QLineEdit::textEdited, this,
              [this, key](const QString& text) { commit(key, text); });
      editor = edit;
    }
    if (info->accepts_auto)
      label->setToolTip(label->toolTip() +
                        tr("\nauto: the largest micro-batch that the memory forecast fits on the "
                           "device"));
    editor->setToolTip(label->toolTip());
    editor->setObjectName(key);
    grid->addWidget(editor, row, 1);
    QString allowed = rangeText(info->min, info->max);
    if (info->accepts_auto) allowed = tr("%1 or auto").arg(allowed);
    grid->addWidget(new QLabel(allowed, group), row, 2);
    const bool hasRecommendation = info->recommended_min || info->recommended_max;
    grid->addWidget(
        new QLabel(hasRecommendation ? rangeText(info->recommended_min, info->recommended_max)
                                     : QStringLiteral("—"),
                   group),
        row, 3);
    auto* mark = new QLabel(group);
    grid->addWidget(mark, row, 4);
    m_editors.insert(key, editor);
    m_marks.insert(key, mark);
    ++row;
  }
  bodyLayout->addStretch(1);

  connect(load, &QPushButton::clicked, this, [this] { loadPreset(m_presets->currentText()); });
  connect(save, &QPushButton::clicked, this, [this] {
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Save preset"), tr("Preset name:"),
                                               QLineEdit::Normal, m_presets->currentText(), &ok);
    if (ok && !name.trimmed().isEmpty()) savePreset(name.trimmed());
  });
  connect(reset, &QPushButton::clicked, m_context.draft, &ConfigDraft::resetTrainingKeys);
  connect(m_context.draft, &ConfigDraft::documentReplaced, this,
          &HyperparametersPage::loadFromDraft);
  connect(m_context.draft, &ConfigDraft::valueChanged, this, [this](const QString& key) {
    if (m_editors.contains(key) && !m_loading) loadFromDraft();
    updateMarks();
  });
  // Every key can change the forecast (the model, LoRA targets, the device), not only this page's.
  connect(m_context.draft, &ConfigDraft::documentReplaced, this,
          &HyperparametersPage::scheduleForecast);
  connect(m_context.draft, &ConfigDraft::valueChanged, this,
          &HyperparametersPage::scheduleForecast);
  connect(m_context.session, &ProjectSession::opened, this, &HyperparametersPage::scheduleForecast);
  connect(&m_forecastDelay, &QTimer::timeout, this, &HyperparametersPage::requestForecast);
  connect(m_forecaster, &MemoryForecaster::forecastReady, this,
          [this](quint64 ticket, const MemoryForecastPair& forecast) {
            if (ticket != m_forecastTicket) return;
            const auto micro = m_context.draft->value(QStringLiteral("train.micro_batch_size"));
            const bool autoMicro = micro.is_string() || (micro.is_number() && micro == 0);
            m_forecastLabel->setForecast(forecast, autoMicro);
            Q_EMIT forecastUpdated();
          });
  connect(m_forecaster, &MemoryForecaster::forecastFailed, this,
          [this](quint64 ticket, const UserMessage& message) {
            if (ticket != m_forecastTicket) return;
            m_forecastLabel->setUnavailable(message.detail);
            Q_EMIT forecastUpdated();
          });
  connect(m_context.session, &ProjectSession::presetsChanged, this,
          &HyperparametersPage::refreshPresets);
  loadFromDraft();
}

void HyperparametersPage::loadFromDraft() {
  m_loading = true;
  for (auto it = m_editors.begin(); it != m_editors.end(); ++it) {
    const auto value = m_context.draft->value(it.key());
    const bool list = ConfigDraft::keyInfo(it.key())->type == "list";
    if (auto* text = qobject_cast<QPlainTextEdit*>(it.value())) {
      if (!text->hasFocus()) text->setPlainText(listText(value, true));
    } else if (auto* edit = qobject_cast<QLineEdit*>(it.value())) {
      if (!edit->hasFocus()) edit->setText(list ? listText(value, false) : jsonText(value));
    } else if (auto* box = qobject_cast<QComboBox*>(it.value())) {
      box->setCurrentText(jsonText(value));
    } else if (auto* check = qobject_cast<QCheckBox*>(it.value())) {
      check->setChecked(value.is_boolean() && value.get<bool>());
    }
  }
  m_loading = false;
  updateMarks();
}

void HyperparametersPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  // What is free on the device changes while the page is elsewhere: forecast again on return.
  m_forecastStale = true;
  scheduleForecast();
}

void HyperparametersPage::scheduleForecast() {
  m_forecastStale = true;
  if (!isVisible()) return;  // asked for when shown
  m_forecastLabel->setPending();
  m_forecastDelay.start();
}

void HyperparametersPage::requestForecast() {
  if (!m_forecastStale || !isVisible()) return;
  m_forecastStale = false;
  const QString error = m_context.draft->validationError();
  if (!error.isEmpty()) {
    ++m_forecastTicket;  // an answer still in flight is for an older config
    m_forecastLabel->setUnavailable(tr("the config is not valid"));
    Q_EMIT forecastUpdated();
    return;
  }
  m_forecastTicket = m_forecaster->request(m_context.draft->document());
}

void HyperparametersPage::commit(const QString& key, const QString& text) {
  if (m_loading) return;
  const auto* info = ConfigDraft::keyInfo(key);
  nlohmann::json value;
  if (info->accepts_auto && isAutoText(text)) {
    value = "auto";
  } else if (info->type == "int" || info->type == "float") {
    bool ok = false;
    const double v = text.trimmed().toDouble(&ok);
    if (!ok) {
      // Not a number: keep the text visible, mark it, and leave the draft invalid on purpose.
      value = text.toStdString();
    } else if (info->type == "int" && v == std::floor(v) && std::abs(v) < 9e15) {
      value = static_cast<int64_t>(v);
    } else {
      value = v;
    }
  } else if (info->type == "bool") {
    value = text == QLatin1String("true");
  } else if (info->type == "list") {
    value = listValue(text, m_linePerItem.contains(key));
  } else {
    value = text.toStdString();
  }
  m_context.draft->setValue(key, value);
}

void HyperparametersPage::updateMarks() {
  m_invalid = m_context.draft->invalidKeys();
  m_advisory = m_context.draft->advisoryKeys();
  for (auto it = m_marks.begin(); it != m_marks.end(); ++it) {
    QWidget* editor = m_editors.value(it.key());
    if (m_invalid.contains(it.key())) {
      it.value()->setText(QStringLiteral("<span style='color:#b02020'>✖ %1</span>")
                              .arg(tr("outside the allowed range")));
      editor->setStyleSheet(QStringLiteral("background:#fdecea"));
    } else if (m_advisory.contains(it.key())) {
      it.value()->setText(QStringLiteral("<span style='color:#a06000'>▲ %1</span>")
                              .arg(tr("outside the recommended range")));
      editor->setStyleSheet(QStringLiteral("background:#fff6e0"));
    } else {
      it.value()->clear();
      editor->setStyleSheet(QString());
    }
  }
  const QString error = m_context.draft->validationError();
  if (!error.isEmpty())
    m_banner->showMessage(MessageBanner::Kind::kError, tr("This config cannot start a run"), error);
  else if (!m_advisory.isEmpty())
    m_banner->showMessage(MessageBanner::Kind::kWarning,
                          tr("Some values are outside the recommended ranges"),
                          m_context.draft->advisories().join(QLatin1Char('\n')));
  else
    m_banner->clearMessage();
}

bool HyperparametersPage::setEditorText(const QString& key, const QString& text) {
  QWidget* editor = m_editors.value(key);
  if (!editor) return false;
  if (auto* plain = qobject_cast<QPlainTextEdit*>(editor)) {
    plain->setPlainText(text);  // commits through textChanged
  } else if (auto* edit = qobject_cast<QLineEdit*>(editor)) {
    edit->setText(text);
    commit(key, text);
  } else if (auto* box = qobject_cast<QComboBox*>(editor)) {
    box->setCurrentText(text);
  } else if (auto* check = qobject_cast<QCheckBox*>(editor)) {
    check->setChecked(text == QLatin1String("true"));
  }
  return true;
}

void HyperparametersPage::refreshPresets() {
  const QString current = m_presets->currentText();
  m_presets->clear();
  for (const auto& [name, json] : m_context.session->presets())
    m_presets->addItem(QString::fromStdString(name));
  const int i = m_presets->findText(current);
  if (i >= 0) m_presets->setCurrentIndex(i);
}

bool HyperparametersPage::savePreset(const QString& name) {
  if (!m_context.session->isOpen()) return false;
  const UserMessage refused =
      m_context.session->savePreset(name, m_context.draft->document().dump());
  if (!refused.isEmpty()) {
    m_banner->showMessage(MessageBanner::Kind::kError, refused.headline, refused.detail);
    return false;
  }
  m_presets->setCurrentText(name);
  m_banner->showMessage(MessageBanner::Kind::kSuccess,
                        tr("Preset '%1' saved in the project").arg(name));
  Q_EMIT presetSaved(name);
  return true;
}

bool HyperparametersPage::loadPreset(const QString& name) {
  const auto presets = m_context.session->presets();
  const auto it = presets.find(name.toStdString());
  if (it == presets.end()) return false;
  try {
    m_context.draft->setDocument(nlohmann::json::parse(it->second));
  } catch (const std::exception& e) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("The preset cannot be read"),
                          QString::fromStdString(e.what()));
    return false;
  }
  return true;
}
