// Registration runs through the DatasetRegistrar (app/): in the background, with its own
// connection; the page shows what it reports.
#include "datapage.h"

#include <QComboBox>
#include <QDragEnterEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTextEdit>
#include <QTimer>
#include <QVBoxLayout>

#include "adddatasetdialog.h"
#include "barplot.h"
#include "configdraft.h"
#include "datasetpreviewmodel.h"
#include "datasetregistrar.h"
#include "datasetsmodel.h"
#include "datatokenservice.h"
#include "filedialogs.h"
#include "messagebanner.h"
#include "projectsession.h"

namespace {
const QColor kTrainColor(0x1f, 0x77, 0xb4);
const QColor kValColor(0xff, 0x7f, 0x0e);

// Loss tokens green, the others grey; two shades each so that token boundaries show.
const QColor kTrainedShades[] = {QColor(0xb9, 0xe4, 0xb4), QColor(0x8f, 0xd1, 0x89)};
const QColor kContextShades[] = {QColor(0xee, 0xee, 0xee), QColor(0xdc, 0xdc, 0xdc)};

// The draft keys the token view depends on.
bool affectsTokens(const QString& key) {
  return key == QLatin1String("model.source") || key == QLatin1String("model.task") ||
         key == QLatin1String("data.max_length") || key == QLatin1String("data.chat_template") ||
         key == QLatin1String("data.val_fraction") || key == QLatin1String("seed");
}

// One token as HTML: its text escaped, line breaks shown as a mark and kept.
QString tokenHtml(const std::string& text, const QColor& background) {
  QString shown = QString::fromStdString(text).toHtmlEscaped();
  shown.replace(QLatin1Char('\n'), QStringLiteral("\u21b5\n"));  // the view keeps white space
  return QStringLiteral("<span style=\"background-color:%1\">%2</span>")
      .arg(background.name(), shown);
}

QVector<double> shares(const std::vector<size_t>& counts) {
  double total = 0;
  for (size_t c : counts) total += static_cast<double>(c);
  QVector<double> out;
  for (size_t c : counts) out << (total > 0 ? 100.0 * static_cast<double>(c) / total : 0.0);
  return out;
}
}  // namespace

DataPage::DataPage(const WorkbenchContext& context, QWidget* parent)
    : QWidget(parent), m_context(context) {
  setAcceptDrops(true);
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  auto* title = new QLabel(tr("Datasets"), this);
  QFont f = title->font();
  f.setPointSizeF(f.pointSizeF() * 1.3);
  f.setBold(true);
  title->setFont(f);
  top->addWidget(title);
  top->addStretch(1);
  auto* hint = new QLabel(tr("Drop a JSONL, JSON, CSV or text file here, or"), this);
  hint->setStyleSheet(QStringLiteral("color:#666"));
  top->addWidget(hint);
  m_addButton = new QPushButton(tr("Add dataset…"), this);
  connect(m_addButton, &QPushButton::clicked, this, &DataPage::chooseFile);
  top->addWidget(m_addButton);
  layout->addLayout(top);
  m_banner = new MessageBanner(this);
  layout->addWidget(m_banner);

  auto* split = new QSplitter(Qt::Vertical, this);
  m_datasets = new DatasetsModel(this);
  m_list = new QTableView(split);
  m_list->setModel(m_datasets);
  m_list->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_list->setSelectionMode(QAbstractItemView::SingleSelection);
  m_list->horizontalHeader()->setStretchLastSection(true);
  m_list->verticalHeader()->hide();
  split->addWidget(m_list);

  m_tabs = new QTabWidget(split);
  auto* previewTab = new QWidget(m_tabs);
  auto* pv = new QVBoxLayout(previewTab);
  m_previewStatus = new QLabel(previewTab);
  pv->addWidget(m_previewStatus);
  m_preview = new DatasetPreviewModel(this);
  m_table = new QTableView(previewTab);
  m_table->setModel(m_preview);
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_table->horizontalHeader()->setMaximumSectionSize(480);
  m_table->verticalHeader()->setDefaultSectionSize(22);
  pv->addWidget(m_table);
  m_tabs->addTab(previewTab, tr("Preview"));

  auto* statsTab = new QWidget(m_tabs);
  auto* sv = new QVBoxLayout(statsTab);
  m_summary = new QLabel(statsTab);
  m_summary->setWordWrap(true);
  sv->addWidget(m_summary);
  auto* plots = new QHBoxLayout;
  m_lengths = new BarPlot(statsTab);
  m_lengths->setTitle(tr("Tokens per example"));
  m_lengths->setAxisLabels(tr("tokens"), tr("examples"));
  m_labels = new BarPlot(statsTab);
  m_labels->setTitle(tr("Label balance"));
  m_labels->setAxisLabels(tr("label"), tr("examples"));
  m_drift = new BarPlot(statsTab);
  m_drift->setTitle(tr("Train vs validation"));
  m_drift->setAxisLabels(tr("tokens"), tr("% of split"));
  plots->addWidget(m_lengths);
  plots->addWidget(m_labels);
  plots->addWidget(m_drift);
  sv->addLayout(plots, 1);
  m_tabs->addTab(statsTab, tr("Statistics"));

  auto* tokensTab = new QWidget(m_tabs);
  auto* tv = new QVBoxLayout(tokensTab);
  auto* formatLine = new QHBoxLayout;
  formatLine->addWidget(new QLabel(tr("Chat format of conversations:"), tokensTab));
  m_chatTemplate = new QComboBox(tokensTab);
  // Family names are product names; "auto" follows the chat template of the model's tokenizer.
  const std::pair<const char*, QString> families[] = {
      {"auto", tr("Automatic (the model's chat template)")},
      {"chatml", tr("ChatML (Qwen)")},
      {"llama3", tr("Llama 3")},
      {"deepseek_r1", tr("DeepSeek-R1")},
      {"mistral", tr("Mistral [INST]")},
      {"llama2", tr("Llama 2 [INST] <<SYS>>")}};
  for (const auto& [name, text] : families)
    m_chatTemplate->addItem(text, QString::fromLatin1(name));
  m_chatTemplate->setToolTip(tr("How a messages dataset becomes text (data.chat_template)"));
  formatLine->addWidget(m_chatTemplate);
  formatLine->addStretch(1);
  tv->addLayout(formatLine);
  m_tokenSummary = new QLabel(tokensTab);
  m_tokenSummary->setWordWrap(true);
  tv->addWidget(m_tokenSummary);
  auto* tokenSplit = new QHBoxLayout;
  m_tokenLengths = new BarPlot(tokensTab);
  m_tokenLengths->setTitle(tr("Tokens per example with the selected model"));
  m_tokenLengths->setAxisLabels(tr("tokens"), tr("examples"));
  tokenSplit->addWidget(m_tokenLengths, 2);
  auto* examplePane = new QVBoxLayout;
  auto* rowLine = new QHBoxLayout;
  rowLine->addWidget(new QLabel(tr("Example"), tokensTab));
  m_exampleRow = new QSpinBox(tokensTab);
  m_exampleRow->setRange(1, 1);
  m_exampleRow->setToolTip(tr("Row of the dataset to show as the model sees it"));
  rowLine->addWidget(m_exampleRow);
  m_exampleStatus = new QLabel(tokensTab);
  m_exampleStatus->setWordWrap(true);
  rowLine->addWidget(m_exampleStatus, 1);
  examplePane->addLayout(rowLine);
  m_exampleView = new QTextEdit(tokensTab);
  m_exampleView->setReadOnly(true);
  m_exampleView->setLineWrapMode(QTextEdit::WidgetWidth);
  examplePane->addWidget(m_exampleView, 1);
  auto* legend = new QLabel(
      tr("<span style=\"background-color:%1\">&nbsp;loss&nbsp;</span> tokens the loss is "
         "computed on &nbsp; <span style=\"background-color:%2\">&nbsp;context&nbsp;</span> "
         "tokens the model only reads")
          .arg(kTrainedShades[0].name(), kContextShades[0].name()),
      tokensTab);
  examplePane->addWidget(legend);
  tokenSplit->addLayout(examplePane, 3);
  tv->addLayout(tokenSplit, 1);
  m_tokensTab = m_tabs->addTab(tokensTab, tr("Tokens"));
  // Counting reads the whole file with the model's tokenizer: only for the tab in view.
  connect(m_tabs, &QTabWidget::currentChanged, this, [this](int index) {
    if (index == m_tokensTab && m_tokensStale) requestTokens();
  });
  split->addWidget(m_tabs);
  split->setStretchFactor(0, 1);
  split->setStretchFactor(1, 3);
  layout->addWidget(split, 1);
  m_useHint = new QLabel(this);
  m_useHint->setStyleSheet(QStringLiteral("color:#555"));
  layout->addWidget(m_useHint);

  connect(m_preview, &DatasetPreviewModel::rowsIndexed, this, [this](int rows, bool atEnd) {
    m_previewStatus->setText(
        atEnd ? tr("%n row(s)", nullptr, rows)
              : tr("First %n row(s) read (%1% of the file); scroll for more", nullptr, rows)
                    .arg(QString::number(100.0 * m_preview->progress(), 'f', 1)));
  });
  connect(m_list->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) { showDataset(current.row()); });
  connect(m_context.session, &ProjectSession::datasetsChanged, this, &DataPage::refresh);
  m_registrar = new DatasetRegistrar(m_context.session, this);
  connect(m_registrar, &DatasetRegistrar::busyChanged, m_addButton,
          [this](bool busy) { m_addButton->setEnabled(!busy); });
  connect(m_registrar, &DatasetRegistrar::addFailed, this, [this](const UserMessage& message) {
    m_banner->showMessage(MessageBanner::Kind::kError, message.headline, message.detail);
    Q_EMIT datasetAddFailed(message.detail);
  });
  m_tokens = new DataTokenService(m_context.session, this);
  // Draft edits come in bursts (a spin box held down): one request per 150 ms.
  m_tokenTimer = new QTimer(this);
  m_tokenTimer->setSingleShot(true);
  m_tokenTimer->setInterval(150);
  connect(m_tokenTimer, &QTimer::timeout, this, &DataPage::requestTokens);
  connect(m_context.draft, &ConfigDraft::valueChanged, this, [this](const QString& key) {
    if (key == QLatin1String("data.chat_template")) syncChatTemplate();
    if (affectsTokens(key)) m_tokenTimer->start();
  });
  connect(m_context.draft, &ConfigDraft::documentReplaced, this, [this] {
    syncChatTemplate();
    m_tokenTimer->start();
  });
  connect(m_chatTemplate, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
    m_context.draft->setValue(QStringLiteral("data.chat_template"),
                              m_chatTemplate->itemData(i).toString().toStdString());
  });
  syncChatTemplate();
  connect(m_exampleRow, qOverload<int>(&QSpinBox::valueChanged), this, &DataPage::requestExample);
  connect(m_tokens, &DataTokenService::statsReady, this,
          [this](const QString& dataset, const deeptune::TokenStats& stats) {
            if (dataset == m_currentDataset) showTokenStats(stats);
          });
  connect(m_tokens, &DataTokenService::statsFailed, this, [this](const UserMessage& message) {
    m_tokenLengths->clear();
    m_tokenSummary->setText(message.headline + QStringLiteral(": ") + message.detail);
  });
  connect(m_tokens, &DataTokenService::previewReady, this,
          [this](const QString& dataset, const deeptune::ExamplePreview& preview) {
            if (dataset == m_currentDataset) showExample(preview);
          });
  connect(m_tokens, &DataTokenService::previewFailed, this, [this](const UserMessage& message) {
    m_exampleView->clear();
    m_exampleStatus->setText(message.headline + QStringLiteral(": ") + message.detail);
  });
  connect(m_registrar, &DatasetRegistrar::added, this, [this](const QString& name) {
    selectDataset(name);
    m_banner->showMessage(MessageBanner::Kind::kSuccess, tr("Dataset '%1' added").arg(name));
    Q_EMIT datasetAdded(name);
  });
}

void DataPage::chooseFile() {
  if (!m_context.session->isOpen()) return;
  const QString path =
      chooseOpenFile(this, tr("Add dataset"), QFileInfo(m_context.session->path()).absolutePath(),
                     tr("Datasets (*.jsonl *.ndjson *.json *.csv *.tsv *.txt);;All files (*)"));
  if (!path.isEmpty()) addDatasetInteractively(path);
}

void DataPage::addDatasetInteractively(const QString& path) {
  if (!m_context.session->isOpen()) return;
  auto* dialog = new AddDatasetDialog(path, this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  if (!dialog->loadError().isEmpty()) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("This file cannot be read as a dataset"),
                          dialog->loadError());
    dialog->deleteLater();
    return;
  }
  connect(dialog, &QDialog::accepted, this, [this, dialog, path] {
    addDataset(path, dialog->datasetName(), dialog->format(), dialog->mapping());
  });
  dialog->open();
}

bool DataPage::addDataset(const QString& path, const QString& name,
                          std::optional<deeptune::DataFormat> format,
                          std::optional<deeptune::FieldMapping> mapping) {
  if (!m_registrar->add(path, name, format, mapping)) return false;
  m_banner->showMessage(MessageBanner::Kind::kInfo, tr("Reading %1…").arg(path));
  return true;
}

void DataPage::selectDataset(const QString& name) {
  const int row = m_datasets->rowOf(name);
  if (row >= 0) m_list->selectRow(row);
}

void DataPage::refresh() {
  const auto chosen = m_context.draft->value(QStringLiteral("data.dataset"));
  const QString current =
      chosen.is_string() ? QString::fromStdString(chosen.get<std::string>()) : QString();
  m_datasets->setDatasets(m_context.session->datasets());
  m_list->resizeColumnsToContents();
  if (m_datasets->rowCount() == 0) {
    m_preview->clear();
    m_previewStatus->setText(m_context.session->isOpen() ? tr("No dataset yet: add one to start.")
                                                         : QString());
    m_lengths->clear();
    m_labels->clear();
    m_drift->clear();
    m_summary->clear();
    m_useHint->clear();
    m_currentDataset.clear();
    m_tokenLengths->clear();
    m_tokenSummary->clear();
    m_exampleView->clear();
    m_exampleStatus->clear();
    return;
  }
  const int row = m_datasets->rowOf(current);
  m_list->selectRow(row >= 0 ? row : 0);
}

void DataPage::showDataset(int row) {
  const auto* d = m_datasets->datasetAt(row);
  if (!d) return;
  m_context.draft->setValue(QStringLiteral("data.dataset"), d->name);
  const QString name = QString::fromStdString(d->name);
  if (name != m_currentDataset) {
    m_currentDataset = name;
    const QSignalBlocker block(m_exampleRow);
    m_exampleRow->setRange(1, qMax<int>(1, static_cast<int>(d->rows)));
    m_exampleRow->setValue(1);
  }
  requestTokens();
  m_useHint->setText(tr("The next run trains on '%1'.").arg(QString::fromStdString(d->name)));
  const QString error = m_preview->setFile(m_context.session->datasetFile(*d), d->format);
  if (!error.isEmpty())
    m_previewStatus->setText(tr("The file cannot be previewed: %1").arg(error));
  else
    m_table->resizeColumnsToContents();
  const auto stats = m_datasets->statsAt(row);
  if (stats.error.isEmpty())
    showStats(stats.stats);
  else
    m_summary->setText(tr("No statistics: %1").arg(stats.error));
}

void DataPage::showStats(const deeptune::DatasetStats& s) {
  m_summary->setText(
      tr("%1 examples (%2 train, %3 validation) · tokens per example: min %4, mean %5, max %6 · "
         "%7 longer than the default maximum length")
          .arg(s.rows)
          .arg(s.train_rows)
          .arg(s.val_rows)
          .arg(s.min_tokens)
          .arg(QString::number(s.mean_tokens, 'f', 1))
          .arg(s.max_tokens)
          .arg(s.truncated));
  QStringList bins;
  for (size_t i = 0; i + 1 < s.token_lengths.edges.size(); ++i)
    bins << QString::number(static_cast<int>(s.token_lengths.edges[i]));
  QVector<double> counts;
  for (size_t c : s.token_lengths.counts) counts << static_cast<double>(c);
  m_lengths->setCategories(bins);
  m_lengths->setSeries({{tr("all"), kTrainColor, counts}});

  QStringList labels;
  QVector<double> labelCounts;
  for (const auto& [label, n] : s.label_counts) {
    labels << QString::fromStdString(label);
    labelCounts << static_cast<double>(n);
  }
  m_labels->setCategories(labels);
  m_labels->setSeries({{tr("examples"), kTrainColor, labelCounts}});
  m_labels->setNote(labels.isEmpty() ? tr("No label column") : QString(), false);

  // The drift figure compares the shares the two splits put in each bin (or on each label).
  const bool byLabel = !s.train_label_counts.empty();
  QStringList categories = byLabel ? labels : bins;
  std::vector<size_t> train, val;
  if (byLabel) {
    for (const auto& [label, n] : s.train_label_counts) train.push_back(n);
    for (const auto& [label, n] : s.val_label_counts) val.push_back(n);
  } else {
    train = s.train_length_counts;
    val = s.val_length_counts;
  }
  m_drift->setAxisLabels(byLabel ? tr("label") : tr("tokens"), tr("% of split"));
  m_drift->setCategories(categories);
  m_drift->setSeries(
      {{tr("train"), kTrainColor, shares(train)}, {tr("validation"), kValColor, shares(val)}});
  size_t occupied = 0;
  for (size_t i = 0; i < train.size(); ++i)
    if (train[i] > 0 || (i < val.size() && val[i] > 0)) ++occupied;
  const double drift = byLabel ? s.label_drift : s.length_drift;
  const double threshold = DatasetsModel::driftThreshold(s.val_rows, occupied);
  if (train.empty()) {
    m_drift->setNote(tr("Statistics from an older version: re-add the dataset for this figure"),
                     false);
  } else if (drift > threshold) {
    m_drift->setNote(tr("Drift %1 exceeds %2: validation does not look like training")
                         .arg(QString::number(drift, 'f', 3), QString::number(threshold, 'f', 3)),
                     true);
  } else {
    m_drift->setNote(tr("Drift %1 (warning above %2)")
                         .arg(QString::number(drift, 'f', 3), QString::number(threshold, 'f', 3)),
                     false);
  }
}

void DataPage::syncChatTemplate() {
  const auto value = m_context.draft->value(QStringLiteral("data.chat_template"));
  const int i =
      m_chatTemplate->findData(value.is_string() ? QString::fromStdString(value.get<std::string>())
                                                 : QStringLiteral("auto"));
  const QSignalBlocker block(m_chatTemplate);
  m_chatTemplate->setCurrentIndex(qMax(0, i));
}

void DataPage::requestTokens() {
  m_tokenTimer->stop();
  if (m_currentDataset.isEmpty()) return;
  m_tokensStale = m_tabs->currentIndex() != m_tokensTab;
  if (m_tokensStale) return;
  m_tokenSummary->setText(tr("Counting tokens with the selected model…"));
  m_tokens->requestStats(m_currentDataset, m_context.draft->document());
  requestExample();
}

void DataPage::requestExample() {
  if (m_currentDataset.isEmpty() || m_tabs->currentIndex() != m_tokensTab) return;
  m_tokens->requestPreview(m_currentDataset, m_context.draft->document(),
                           m_exampleRow->value() - 1);
}

void DataPage::showTokenStats(const deeptune::TokenStats& t) {
  const auto& s = t.stats;
  QString text =
      tr("Tokenizer: %1 · tokens per example: min %2, mean %3, max %4 · %5 of %6 examples "
         "(%7%) longer than data.max_length = %8 and cut")
          .arg(QString::fromStdString(t.tokenizer))
          .arg(s.min_tokens)
          .arg(QString::number(s.mean_tokens, 'f', 1))
          .arg(s.max_tokens)
          .arg(s.truncated)
          .arg(s.rows)
          .arg(QString::number(100.0 * t.truncated_share, 'f', 1))
          .arg(t.max_length);
  // The engine's sentence names the family and how it was chosen (as the run log will).
  if (!t.chat_family.empty())
    text += QStringLiteral("<br>") +
            tr("Conversations: %1").arg(QString::fromStdString(t.chat_note).toHtmlEscaped());
  m_tokenSummary->setText(text);
  QStringList bins;
  for (size_t i = 0; i + 1 < s.token_lengths.edges.size(); ++i)
    bins << QString::number(static_cast<int>(s.token_lengths.edges[i]));
  QVector<double> counts;
  for (size_t c : s.token_lengths.counts) counts << static_cast<double>(c);
  m_tokenLengths->setCategories(bins);
  m_tokenLengths->setSeries({{tr("examples"), kTrainColor, counts}});
  m_tokenLengths->setNote(
      s.truncated ? tr("%1% cut at %2 tokens")
                        .arg(QString::number(100.0 * t.truncated_share, 'f', 1))
                        .arg(t.max_length)
                  : tr("Every example fits in %1 tokens").arg(t.max_length),
      t.truncated_share > 0.1);  // a tenth of the data losing its end is worth a look
}

void DataPage::showExample(const deeptune::ExamplePreview& p) {
  {
    const QSignalBlocker block(m_exampleRow);
    m_exampleRow->setRange(1, qMax<int>(1, static_cast<int>(p.rows)));
  }
  QString html;
  int trained = 0;
  for (size_t i = 0; i < p.ids.size(); ++i) {
    const bool loss = i < p.loss_mask.size() && p.loss_mask[i];
    trained += loss ? 1 : 0;
    html += tokenHtml(p.tokens[i], loss ? kTrainedShades[i % 2] : kContextShades[i % 2]);
  }
  m_exampleView->setHtml(
      QStringLiteral("<div style=\"font-family:monospace; white-space:pre-wrap\">%1</div>")
          .arg(html));
  QString status =
      tr("%n token(s), %1 in the loss", nullptr, static_cast<int>(p.ids.size())).arg(trained);
  if (p.truncated)
    status += QStringLiteral(" · ") +
              tr("cut from %n token(s)", nullptr, static_cast<int>(p.full_length));
  if (trained == 0 && p.label.empty())  // what train::encode drops
    status += QStringLiteral(" · ") + tr("left out of training: nothing to predict");
  if (p.validation) status += QStringLiteral(" · ") + tr("validation example");
  if (!p.label.empty())
    status += QStringLiteral(" · ") + tr("label: %1").arg(QString::fromStdString(p.label));
  m_exampleStatus->setText(status);
}

void DataPage::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls() && m_context.session->isOpen()) event->acceptProposedAction();
}

void DataPage::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (!urls.isEmpty() && urls.first().isLocalFile())
    addDatasetInteractively(urls.first().toLocalFile());
}
