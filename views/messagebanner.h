// An inline message under a page's toolbar: a bold headline (translated) and the engine's detail
// below it. Used instead of modal boxes so a failure never blocks the window.
#pragma once

#include <QFrame>

class QLabel;

class MessageBanner : public QFrame {
  Q_OBJECT
 public:
  enum class Kind { kError, kWarning, kSuccess, kInfo };
  explicit MessageBanner(QWidget* parent = nullptr);
  void showMessage(Kind kind, const QString& headline, const QString& detail = {});
  void clearMessage();
  QString headline() const;
  QString detail() const;
  Kind kind() const { return m_kind; }

 private:
  QLabel* m_headline;
  QLabel* m_detail;
  Kind m_kind = Kind::kInfo;
};
