// The mapping choices mirror deeptune::MappingKind: text; prompt + response; text + label;
// messages.
#include "adddatasetdialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include "datasetpreviewmodel.h"

namespace {
enum MappingChoice { kText = 0, kPromptResponse = 1, kTextLabel = 2, kMessages = 3 };
const deeptune::DataFormat kFormats[] = {deeptune::DataFormat::kJsonl, deeptune::DataFormat::kJson,
                                         deeptune::DataFormat::kCsv, deeptune::DataFormat::kText};
}  // namespace

AddDatasetDialog::AddDatasetDialog(const QString& path, QWidget* parent)
    : QDialog(parent), m_path(path) {
  setWindowTitle(tr("Add dataset"));
  resize(760, 560);
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  m_name = new QLineEdit(QFileInfo(path).completeBaseName(), this);
  form->addRow(tr("Name:"), m_name);
  auto* file = new QLabel(QFileInfo(path).absoluteFilePath(), this);
  file->setTextInteractionFlags(Qt::TextSelectableByMouse);
  form->addRow(tr("File:"), file);
  m_format = new QComboBox(this);
  m_format->addItem(tr("JSON Lines (one object per line)"));
  m_format->addItem(tr("JSON (array of objects)"));
  m_format->addItem(tr("CSV (header row)"));
  m_format->addItem(tr("Plain text (one example per line)"));
  form->addRow(tr("Format:"), m_format);
  m_kind = new QComboBox(this);
  m_kind->addItem(tr("Text (learn the whole text)"));
  m_kind->addItem(tr("Prompt and response (learn the response)"));
  m_kind->addItem(tr("Text and label (classification)"));
  m_kind->addItem(tr("Conversation (learn the assistant turns)"));
  form->addRow(tr("Examples are:"), m_kind);
  m_text = new QComboBox(this);
  m_prompt = new QComboBox(this);
  m_response = new QComboBox(this);
  m_label = new QComboBox(this);
  m_messages = new QComboBox(this);
  form->addRow(tr("Text column:"), m_text);
  form->addRow(tr("Prompt column:"), m_prompt);
  form->addRow(tr("Response column:"), m_response);
  form->addRow(tr("Label column:"), m_label);
  form->addRow(tr("Messages column:"), m_messages);
  layout->addLayout(form);
  m_status = new QLabel(this);
  m_status->setWordWrap(true);
  layout->addWidget(m_status);
  m_preview = new DatasetPreviewModel(this);
  m_table = new QTableView(this);
  m_table->setModel(m_preview);
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_table->verticalHeader()->setDefaultSectionSize(22);
  layout->addWidget(m_table, 1);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Add"));
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);

  // Opened once in the detected format; choosing another format reopens it in that one.
  m_error = m_preview->setFile(path);
  for (int i = 0; i < 4; ++i)
    if (kFormats[i] == m_preview->format()) m_format->setCurrentIndex(i);
  if (m_error.isEmpty()) showColumns();
  connect(m_format, &QComboBox::currentIndexChanged, this, &AddDatasetDialog::reload);
  connect(m_kind, &QComboBox::currentIndexChanged, this, &AddDatasetDialog::updateMappingFields);
  if (!m_error.isEmpty()) {
    m_status->setText(m_error);
    buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
  }
}

void AddDatasetDialog::reload() {
  m_error = m_preview->setFile(m_path, format());
  showColumns();
}

void AddDatasetDialog::showColumns() {
  const QStringList columns = m_preview->columns();
  for (QComboBox* box : {m_text, m_prompt, m_response, m_label, m_messages}) {
    box->clear();
    box->addItems(columns);
  }
  if (!m_error.isEmpty()) {
    m_status->setText(m_error);
    return;
  }
  if (const auto guess = m_preview->guessedMapping()) {
    m_text->setCurrentText(QString::fromStdString(guess->text));
    m_prompt->setCurrentText(QString::fromStdString(guess->prompt));
    m_response->setCurrentText(QString::fromStdString(guess->response));
    m_label->setCurrentText(QString::fromStdString(guess->label));
    m_messages->setCurrentText(QString::fromStdString(guess->messages));
    switch (guess->kind()) {
      case deeptune::MappingKind::kText:
        m_kind->setCurrentIndex(kText);
        break;
      case deeptune::MappingKind::kPromptResponse:
        m_kind->setCurrentIndex(kPromptResponse);
        break;
      case deeptune::MappingKind::kTextLabel:
        m_kind->setCurrentIndex(kTextLabel);
        break;
      case deeptune::MappingKind::kMessages:
        m_kind->setCurrentIndex(kMessages);
        break;
    }
  }
  updateMappingFields();
  m_status->setText(tr("Detected columns: %1").arg(columns.join(QStringLiteral(", "))));
}

void AddDatasetDialog::updateMappingFields() {
  const int kind = m_kind->currentIndex();
  m_text->setEnabled(kind == kText || kind == kTextLabel);
  m_prompt->setEnabled(kind == kPromptResponse);
  m_response->setEnabled(kind == kPromptResponse);
  m_label->setEnabled(kind == kTextLabel);
  m_messages->setEnabled(kind == kMessages);
}

QString AddDatasetDialog::datasetName() const {
  return m_name->text().trimmed();
}

deeptune::DataFormat AddDatasetDialog::format() const {
  return kFormats[qBound(0, m_format->currentIndex(), 3)];
}

deeptune::FieldMapping AddDatasetDialog::mapping() const {
  deeptune::FieldMapping m;
  switch (m_kind->currentIndex()) {
    case kPromptResponse:
      m.prompt = m_prompt->currentText().toStdString();
      m.response = m_response->currentText().toStdString();
      break;
    case kTextLabel:
      m.text = m_text->currentText().toStdString();
      m.label = m_label->currentText().toStdString();
      break;
    case kMessages:
      m.messages = m_messages->currentText().toStdString();
      break;
    default:
      m.text = m_text->currentText().toStdString();
  }
  return m;
}
