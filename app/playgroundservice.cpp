// The worker thread owns the Generator and its own ProjectStore connection (one per thread, as
// everywhere in app/); the UI thread only posts jobs and receives value types. Every signal is
// emitted on the UI thread, in the order the worker produced it.
#include "playgroundservice.h"

#include <QMetaObject>

#include "deeptune/error.h"
#include "deeptune/store.h"

double PlaygroundOutput::tokensPerSecond() const {
  const int steps = outputTokens > 0 ? outputTokens - 1 : 0;
  return decodeSeconds > 0.0 ? steps / decodeSeconds : 0.0;
}

// Lives in the worker thread; everything here runs there.
class PlaygroundService::Worker : public QObject {
 public:
  // Makes `model` the loaded one (a run: at its newest checkpoint). Returns false when it was
  // loaded already. Throws the engine's errors; InputError when the run was deleted.
  bool ensure(const PlaygroundModel& model) {
    QString key;
    std::string run;
    if (model.isRun()) {
      const std::string path = model.projectPath.toStdString();
      if (!m_store || m_storePath != path) {
        m_store.reset();
        m_store = deeptune::ProjectStore::open(path);
        m_storePath = path;
      }
      const auto record = m_store->run(model.runId);
      if (!record) {
        unloadModel();
        throw deeptune::InputError(path, "the run no longer exists (it was deleted)");
      }
      run = record->name;
      key = QStringLiteral("run %1 %2 %3")
                .arg(model.projectPath)
                .arg(model.runId)
                .arg(record->checkpoint_step);
    } else {
      key = QStringLiteral("folder ") + model.folder;
    }
    if (m_generator && key == m_key) return false;
    unloadModel();  // the old model's memory is free before the next one loads
    m_generator = model.isRun() ? deeptune::Generator::for_run(m_storePath, run)
                                : deeptune::Generator::for_folder(model.folder.toStdString());
    m_key = key;
    return true;
  }

  PlaygroundModelInfo info() const {
    return {QString::fromStdString(m_generator->description()), m_generator->has_base(),
            m_generator->has_chat_template(), m_generator->context_length()};
  }

  deeptune::Generator& generator() { return *m_generator; }

  void unloadModel() {
    m_generator.reset();
    m_key.clear();
  }
  void unloadAll() {
    unloadModel();
    m_store.reset();
    m_storePath.clear();
  }

 private:
  std::unique_ptr<deeptune::ProjectStore> m_store;
  std::string m_storePath;
  std::unique_ptr<deeptune::Generator> m_generator;
  QString m_key;  // what m_generator was loaded from
};

namespace {

// The length of `bytes` without a UTF-8 character cut off at its end (its lead byte and fewer
// continuation bytes than the lead announces). Invalid bytes are passed on, not held.
size_t wholeCharacters(const std::string& bytes) {
  const size_t n = bytes.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(bytes[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

UserMessage messageOf(const char* headline, const std::exception& e) {
  return {PlaygroundService::tr(headline), QString::fromStdString(e.what())};
}

}  // namespace

PlaygroundService::PlaygroundService(QObject* parent) : QObject(parent) {
  qRegisterMetaType<PlaygroundModelInfo>();
  qRegisterMetaType<PlaygroundOutput>();
  qRegisterMetaType<UserMessage>();
  m_thread = std::make_unique<QThread>();
  m_thread->setObjectName(QStringLiteral("playground"));
  m_worker = new Worker;
  m_worker->moveToThread(m_thread.get());
  connect(m_thread.get(), &QThread::finished, m_worker, &QObject::deleteLater);
  m_thread->start();
}

PlaygroundService::~PlaygroundService() {
  m_stop = true;
  m_thread->quit();
  m_thread->wait();  // a stopped generation ends at its next token; jobs still queued are dropped
}

template <typename Job>
void PlaygroundService::post(Job job) {
  setJobs(m_jobs + 1);
  QMetaObject::invokeMethod(
      m_worker,
      [this, job]() mutable {
        job(*m_worker);
        QMetaObject::invokeMethod(
            this, [this] { setJobs(m_jobs - 1); }, Qt::QueuedConnection);
      },
      Qt::QueuedConnection);
}

void PlaygroundService::setJobs(int jobs) {
  const bool was = isBusy();
  m_jobs = jobs;
  if (was != isBusy()) Q_EMIT busyChanged(isBusy());
}

void PlaygroundService::load(const PlaygroundModel& model) {
  if (!model.isValid()) return;
  post([this, model](Worker& worker) {
    try {
      worker.ensure(model);
      const PlaygroundModelInfo info = worker.info();
      QMetaObject::invokeMethod(
          this, [this, info] { Q_EMIT modelLoaded(info); }, Qt::QueuedConnection);
    } catch (const std::exception& e) {
      const UserMessage message =
          messageOf(QT_TRANSLATE_NOOP("PlaygroundService", "The model could not be loaded"), e);
      QMetaObject::invokeMethod(
          this, [this, message] { Q_EMIT loadFailed(message); }, Qt::QueuedConnection);
    }
  });
}

quint64 PlaygroundService::generate(const PlaygroundModel& model, const QString& prompt,
                                    const deeptune::GenerateOptions& options, bool sideBySide) {
  if (isGenerating() || !model.isValid()) return 0;
  const quint64 ticket = ++m_lastTicket;
  m_generating = ticket;
  m_stop = false;
  m_partial[0].clear();
  m_partial[1].clear();
  const std::string text = prompt.toStdString();
  post([this, model, text, options, sideBySide, ticket](Worker& worker) {
    const char* stage = QT_TRANSLATE_NOOP("PlaygroundService", "The model could not be loaded");
    try {
      if (worker.ensure(model)) {
        const PlaygroundModelInfo info = worker.info();
        QMetaObject::invokeMethod(
            this, [this, info] { Q_EMIT modelLoaded(info); }, Qt::QueuedConnection);
      }
      stage = QT_TRANSLATE_NOOP("PlaygroundService", "The generation failed");
      const bool base = sideBySide && worker.generator().has_base();
      for (const bool tuned : {false, true}) {
        if (!tuned && !base) continue;
        if (tuned && base && m_stop) break;  // stopped during the base: the tuned is not begun
        deeptune::GenerateOptions o = options;
        o.on_text = [this, ticket, tuned](const std::string& piece) {
          appendStream(ticket, tuned, piece);
          return !m_stop;
        };
        const deeptune::Generation g = worker.generator().generate(text, o, tuned);
        PlaygroundOutput out;
        out.tuned = tuned;
        out.text = QString::fromStdString(g.text);
        out.stopReason = QString::fromStdString(g.stop_reason);
        out.promptTokens = static_cast<int>(g.prompt_ids.size());
        out.outputTokens = static_cast<int>(g.output_ids.size());
        out.promptSeconds = g.prompt_seconds;
        out.decodeSeconds = g.decode_seconds;
        QMetaObject::invokeMethod(
            this, [this, ticket, out] { Q_EMIT outputFinished(ticket, out); },
            Qt::QueuedConnection);
      }
    } catch (const std::exception& e) {
      const UserMessage message = messageOf(stage, e);
      QMetaObject::invokeMethod(
          this, [this, ticket, message] { Q_EMIT generationFailed(ticket, message); },
          Qt::QueuedConnection);
    }
    QMetaObject::invokeMethod(
        this,
        [this, ticket] {
          takeStream();  // nothing may stream in after the end
          m_generating = 0;
          Q_EMIT generationFinished(ticket);
        },
        Qt::QueuedConnection);
  });
  return ticket;
}

void PlaygroundService::stop() {
  m_stop = true;
}

void PlaygroundService::unload() {
  m_stop = true;
  post([](Worker& worker) { worker.unloadAll(); });
}

void PlaygroundService::appendStream(quint64 ticket, bool tuned, const std::string& piece) {
  std::lock_guard<std::mutex> lock(m_streamMutex);
  if (m_stream.empty() || m_stream.back().ticket != ticket || m_stream.back().tuned != tuned)
    m_stream.push_back({ticket, tuned, {}});
  m_stream.back().bytes += piece;
  if (m_streamPosted) return;
  m_streamPosted = true;
  QMetaObject::invokeMethod(this, &PlaygroundService::takeStream, Qt::QueuedConnection);
}

void PlaygroundService::takeStream() {
  std::vector<Stream> taken;
  {
    std::lock_guard<std::mutex> lock(m_streamMutex);
    taken.swap(m_stream);
    m_streamPosted = false;
  }
  for (Stream& s : taken) {
    std::string& partial = m_partial[s.tuned ? 1 : 0];
    std::string bytes = partial + s.bytes;
    const size_t whole = wholeCharacters(bytes);
    partial = bytes.substr(whole);
    bytes.resize(whole);
    if (!bytes.empty()) Q_EMIT textGenerated(s.ticket, s.tuned, QString::fromStdString(bytes));
  }
}
