// Playground page: ask a causal LM run of the project (or a Hugging Face model folder) a prompt
// and watch the answer stream in, with the sampling options, stop strings and chat template of
// deeptune-cli generate; side by side, the same prompt through the run's base model and through
// the tuned run shows what the fine-tune changed.
#pragma once

#include <QWidget>

#include "playgroundservice.h"
#include "workbenchcontext.h"

class HfModelScanner;
class MessageBanner;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

class PlaygroundPage : public QWidget {
  Q_OBJECT
 public:
  explicit PlaygroundPage(const WorkbenchContext& context, QWidget* parent = nullptr);

  // Chooses the model: a run of the open project (false when it is not listed) or a model folder
  // (added to the list as `name`, by default the folder's; chosen when `select` or the first).
  bool selectRun(qint64 runId);
  void addFolder(const QString& folder, bool select = true, const QString& name = {});
  PlaygroundModel currentModel() const;

  // What Generate does: the prompt and options through the chosen model, in the background.
  // Returns the ticket of PlaygroundService's signals, or 0 when nothing started (the banner
  // says why, or a generation is in flight).
  quint64 generate();
  void stop();  // what Stop does

  // The options as the form holds them (on_text unset).
  deeptune::GenerateOptions options() const;
  // "a, b\nc" -> {"a", "b", "c"}: separated by commas and newlines, trimmed, empty ones dropped;
  // \n, \t, \, and \\ stand for a newline, a tab, a comma and a backslash; "\ " is a space kept
  // at either end.
  static std::vector<std::string> parseStopStrings(const QString& text);
  // The engine's stop reason ("eos", "stop", ...) in words.
  static QString stopReasonText(const QString& reason);

  PlaygroundService* service() const { return m_service; }
  MessageBanner* banner() const { return m_banner; }
  QComboBox* modelBox() const { return m_model; }
  QPlainTextEdit* promptEdit() const { return m_prompt; }
  QPlainTextEdit* output(bool tuned) const { return tuned ? m_tuned.text : m_base.text; }
  QLabel* outputStats(bool tuned) const { return tuned ? m_tuned.stats : m_base.stats; }
  QDoubleSpinBox* temperatureBox() const { return m_temperature; }
  QDoubleSpinBox* topPBox() const { return m_topP; }
  QSpinBox* topKBox() const { return m_topK; }
  QDoubleSpinBox* repetitionPenaltyBox() const { return m_repetition; }
  QSpinBox* maxNewTokensBox() const { return m_maxTokens; }
  QSpinBox* seedBox() const { return m_seed; }
  QPlainTextEdit* stopEdit() const { return m_stopStrings; }
  QCheckBox* chatBox() const { return m_chat; }
  QCheckBox* sideBySideBox() const { return m_sideBySide; }
  QPushButton* generateButton() const { return m_generate; }
  QPushButton* stopButton() const { return m_stop; }

 Q_SIGNALS:
  // The generation of `ticket` ended (its outputs shown, or its failure in the banner).
  void generationFinished(quint64 ticket);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  struct Pane {
    QGroupBox* box = nullptr;
    QPlainTextEdit* text = nullptr;
    QLabel* stats = nullptr;
  };
  Pane makePane(const QString& title);
  Pane& pane(bool tuned) { return tuned ? m_tuned : m_base; }

  void refreshModels();
  void loadCurrent();
  void showModel(const PlaygroundModelInfo& info);
  void showOutput(const PlaygroundOutput& output);
  void updateButtons();

  WorkbenchContext m_context;
  PlaygroundService* m_service;
  HfModelScanner* m_scanner;
  bool m_cacheScanned = false;
  QList<QPair<QString, QString>> m_folders;  // model folders listed after the runs: (name, path)
  QComboBox* m_model;
  QLabel* m_description;
  MessageBanner* m_banner;
  QPlainTextEdit* m_prompt;
  QDoubleSpinBox* m_temperature;
  QDoubleSpinBox* m_topP;
  QSpinBox* m_topK;
  QDoubleSpinBox* m_repetition;
  QSpinBox* m_maxTokens;
  QSpinBox* m_seed;
  QPlainTextEdit* m_stopStrings;
  QCheckBox* m_chat;
  QCheckBox* m_sideBySide;
  QPushButton* m_generate;
  QPushButton* m_stop;
  QLabel* m_status;
  Pane m_base;
  Pane m_tuned;
  quint64 m_ticket = 0;  // the generation shown, 0 when none is in flight
  QString m_requested;   // what the last load asked for (see modelKey in the .cpp)
};
