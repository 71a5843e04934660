// A message for the user: a translated headline and the engine's detail below it (what a page's
// MessageBanner shows). Services report every failure this way.
#pragma once

#include <QMetaType>
#include <QString>

struct UserMessage {
  QString headline;
  QString detail;
  bool isEmpty() const { return headline.isEmpty(); }
};

Q_DECLARE_METATYPE(UserMessage)
