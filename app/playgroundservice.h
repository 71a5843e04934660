// The Playground's engine host: one deeptune::Generator kept loaded between generations (loading
// a 1B model takes seconds) in a worker thread of its own, which loads it, checks it against the
// project before each generation and generates with it. Text streams back coalesced: while the UI
// has not taken what arrived, later pieces join it, so a fast model cannot flood the event loop.
#pragma once

#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "deeptune/session.h"
#include "usermessage.h"

// What to generate with: a run of a project (by id, which survives a rename) or a Hugging Face
// model folder.
struct PlaygroundModel {
  QString projectPath;
  qint64 runId = 0;  // 0: the folder below
  QString folder;
  bool isRun() const { return runId != 0; }
  bool isValid() const { return isRun() ? !projectPath.isEmpty() : !folder.isEmpty(); }
};

// The loaded model as the page shows it.
struct PlaygroundModelInfo {
  QString description;  // the engine's, e.g. "run 'alpha' at step 120 (LoRA r=8 on preset:tiny)"
  bool hasBase = false;
  bool hasChatTemplate = false;
  qint64 contextLength = 0;
};

// One pane's finished generation.
struct PlaygroundOutput {
  bool tuned = true;   // false: the run's base model
  QString text;        // the whole continuation (what streamed, stop string excluded)
  QString stopReason;  // the engine's: "eos", "stop", "length", "context", "callback"
  int promptTokens = 0;
  int outputTokens = 0;
  double promptSeconds = 0.0;
  double decodeSeconds = 0.0;
  // Tokens per second of the steps after the prompt's forward (which yields the first token), as
  // deeptune-cli reports it; 0 when there were none.
  double tokensPerSecond() const;
};

Q_DECLARE_METATYPE(PlaygroundModelInfo)
Q_DECLARE_METATYPE(PlaygroundOutput)

class PlaygroundService : public QObject {
  Q_OBJECT
 public:
  explicit PlaygroundService(QObject* parent = nullptr);
  ~PlaygroundService() override;  // stops a generation, joins the thread, frees the model

  bool isBusy() const { return m_jobs > 0; }
  bool isGenerating() const { return m_generating != 0; }

  // Loads `model` in the background unless it is loaded already (a run: at its newest
  // checkpoint); modelLoaded or loadFailed follows. Jobs run one after the other.
  void load(const PlaygroundModel& model);
  // Generates `prompt` through the tuned model and, with `sideBySide`, first through its base
  // (options.on_text is the service's own). Reloads first when the model is another or the run
  // has a newer checkpoint. textGenerated streams; outputFinished follows each pane,
  // generationFailed a failure, generationFinished the end in every case. Returns the ticket the
  // signals carry, or 0 (nothing done) while a generation is in flight or `model` is invalid.
  quint64 generate(const PlaygroundModel& model, const QString& prompt,
                   const deeptune::GenerateOptions& options, bool sideBySide);
  // Ends the generation in flight at its next token (stop reason "callback") and skips the rest.
  void stop();
  // Frees the loaded model and the project connection (the project closed).
  void unload();

 Q_SIGNALS:
  void busyChanged(bool busy);
  void modelLoaded(const PlaygroundModelInfo& info);
  void loadFailed(const UserMessage& message);
  void textGenerated(quint64 ticket, bool tuned, const QString& text);
  void outputFinished(quint64 ticket, const PlaygroundOutput& output);
  void generationFailed(quint64 ticket, const UserMessage& message);
  void generationFinished(quint64 ticket);

 private:
  class Worker;
  // Runs `job` on the worker thread; `busy` bookkeeping on this (the UI) thread around it.
  template <typename Job>
  void post(Job job);
  // Worker thread: appends a piece of streamed text; the first piece since the UI last took the
  // stream asks it to take it.
  void appendStream(quint64 ticket, bool tuned, const std::string& piece);
  // UI thread: takes what streamed, emits it as textGenerated (whole UTF-8 characters only).
  void takeStream();
  void setJobs(int jobs);

  std::unique_ptr<QThread> m_thread;
  Worker* m_worker = nullptr;  // lives in m_thread, deleted when it finishes
  std::atomic<bool> m_stop{false};
  int m_jobs = 0;
  quint64 m_generating = 0;  // the ticket in flight, 0 when none
  quint64 m_lastTicket = 0;

  struct Stream {
    quint64 ticket = 0;
    bool tuned = true;
    std::string bytes;
  };
  std::mutex m_streamMutex;
  std::vector<Stream> m_stream;  // guarded by m_streamMutex
  bool m_streamPosted = false;   // guarded by m_streamMutex
  std::string m_partial[2];      // UI thread: a character cut between pieces, per pane (tuned)
};
