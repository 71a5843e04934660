// Colours follow the usual traffic-light meaning; text is selectable so a detail can be copied.
#include "messagebanner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

MessageBanner::MessageBanner(QWidget* parent) : QFrame(parent) {
  setObjectName(QStringLiteral("messageBanner"));
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(10, 6, 6, 6);
  auto* texts = new QVBoxLayout;
  m_headline = new QLabel(this);
  m_headline->setObjectName(QStringLiteral("bannerHeadline"));
  m_headline->setWordWrap(true);
  QFont bold = m_headline->font();
  bold.setBold(true);
  m_headline->setFont(bold);
  m_detail = new QLabel(this);
  m_detail->setObjectName(QStringLiteral("bannerDetail"));
  m_detail->setWordWrap(true);
  m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);
  texts->addWidget(m_headline);
  texts->addWidget(m_detail);
  layout->addLayout(texts, 1);
  auto* close = new QToolButton(this);
  close->setText(QStringLiteral("×"));
  close->setAutoRaise(true);
  close->setToolTip(tr("Dismiss"));
  connect(close, &QToolButton::clicked, this, &MessageBanner::clearMessage);
  layout->addWidget(close, 0, Qt::AlignTop);
  hide();
}

void MessageBanner::showMessage(Kind kind, const QString& headline, const QString& detail) {
  m_kind = kind;
  const char* style = "";
  switch (kind) {
    case Kind::kError:
      style = "#messageBanner{background:#fdecea;border:1px solid #e0a39c;border-radius:4px}";
      break;
    case Kind::kWarning:
      style = "#messageBanner{background:#fff6e0;border:1px solid #e3c27a;border-radius:4px}";
      break;
    case Kind::kSuccess:
      style = "#messageBanner{background:#e8f5e9;border:1px solid #98c99c;border-radius:4px}";
      break;
    case Kind::kInfo:
      style = "#messageBanner{background:#e8f0fb;border:1px solid #a3bce3;border-radius:4px}";
      break;
  }
  setStyleSheet(QString::fromLatin1(style));
  m_headline->setText(headline);
  m_detail->setText(detail);
  m_detail->setVisible(!detail.isEmpty());
  show();
}

void MessageBanner::clearMessage() {
  m_headline->clear();
  m_detail->clear();
  hide();
}

QString MessageBanner::headline() const { return m_headline->text(); }
QString MessageBanner::detail() const { return m_detail->text(); }
