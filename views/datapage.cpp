// Registration runs through the DatasetRegistrar (app/): in the background, with its own
// connection; the page shows what it reports.
#include "datapage.h"

#include <QDragEnterEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include "adddatasetdialog.h"
#include "barplot.h"
#include "configdraft.h"
#include "datasetpreviewmodel.h"
#include "datasetregistrar.h"
#include "datasetsmodel.h"
#include "filedialogs.h"
#include "messagebanner.h"
#include "projectsession.h"

namespace {
const QColor kTrainColor(0x1f, 0x77, 0xb4);
const QColor kValColor(0xff, 0x7f, 0x0e);

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
    return;
  }
  const int row = m_datasets->rowOf(current);
  m_list->selectRow(row >= 0 ? row : 0);
}

void DataPage::showDataset(int row) {
  const auto* d = m_datasets->datasetAt(row);
  if (!d) return;
  m_context.draft->setValue(QStringLiteral("data.dataset"), d->name);
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

void DataPage::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls() && m_context.session->isOpen()) event->acceptProposedAction();
}

void DataPage::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (!urls.isEmpty() && urls.first().isLocalFile())
    addDatasetInteractively(urls.first().toLocalFile());
}
