// The workbench's main window: a page list (Data, Model & LoRA, Hyperparameters, Train, Runs,
// Playground, Export, Attention, Memory) beside the pages, the
// project menu (New, Open, Recent, Close), the language setting, and state kept in QSettings.
#pragma once

#include <QMainWindow>
#include <memory>

#include "workbenchcontext.h"

class AttentionPage;
class ConfigDraft;
class DataPage;
class ExportPage;
class HyperparametersPage;
class ModelPage;
class PlaygroundPage;
class MemoryPage;
class MessageBanner;
class ProjectSession;
struct UserMessage;
class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;
class RunController;
class RunsPage;
class TrainPage;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  enum Page {
    kData,
    kModel,
    kHyperparameters,
    kTrain,
    kRuns,
    kPlayground,
    kExport,
    kAttention,
    kMemory,
    kPageCount
  };

  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Open or create; on failure the message shows in the window and the current project stays.
  bool openProject(const QString& path);
  bool createProject(const QString& path, bool withSample);
  void closeProject();

  void showPage(Page page);
  Page currentPage() const;
  static QString pageKey(Page page);  // stable names stored in the settings ("data", "train", ...)

  ProjectSession* session() const { return m_session; }
  RunController* runController() const { return m_runs; }
  ConfigDraft* draft() const { return m_draft; }
  DataPage* dataPage() const { return m_data; }
  ModelPage* modelPage() const { return m_model; }
  HyperparametersPage* hyperparametersPage() const { return m_hyper; }
  TrainPage* trainPage() const { return m_train; }
  RunsPage* runsPage() const { return m_runsPage; }
  PlaygroundPage* playgroundPage() const { return m_playground; }
  ExportPage* exportPage() const { return m_export; }
  AttentionPage* attentionPage() const { return m_attention; }
  MemoryPage* memoryPage() const { return m_memory; }
  MessageBanner* banner() const { return m_banner; }
  QListWidget* pageList() const { return m_pageList; }

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildMenus();
  void rebuildRecentMenu();
  void updateTitle();
  void newProject(bool withSample);
  void chooseProject();
  QWidget* makeWelcome();
  void showProjectError(const UserMessage& error);

  ProjectSession* m_session;
  RunController* m_runs;
  ConfigDraft* m_draft;
  WorkbenchContext m_context;
  QListWidget* m_pageList;
  QStackedWidget* m_stack;
  QStackedWidget* m_outer;  // welcome screen vs pages
  MessageBanner* m_banner;
  MessageBanner* m_welcomeBanner = nullptr;
  QMenu* m_recent;
  QLabel* m_status;
  DataPage* m_data;
  ModelPage* m_model;
  HyperparametersPage* m_hyper;
  TrainPage* m_train;
  RunsPage* m_runsPage;
  PlaygroundPage* m_playground;
  ExportPage* m_export;
  AttentionPage* m_attention;
  MemoryPage* m_memory;
};
