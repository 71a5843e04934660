// Window assembly and project lifecycle. Pages talk to the shared context, not to each other;
// the window only switches pages when an action in one leads to another (duplicate -> edit).
#include "mainwindow.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QVBoxLayout>

#include "appsettings.h"
#include "attentionpage.h"
#include "configdraft.h"
#include "datapage.h"
#include "exportpage.h"
#include "filedialogs.h"
#include "hyperparameterspage.h"
#include "memorypage.h"
#include "messagebanner.h"
#include "modelpage.h"
#include "playgroundpage.h"
#include "projectsession.h"
#include "runcontroller.h"
#include "runsmodel.h"
#include "runspage.h"
#include "trainpage.h"
#include "translations.h"
#include "versions.h"

namespace {
const char* const kProjectFilter = QT_TRANSLATE_NOOP("MainWindow", "DeepTune projects (*.dtproj)");
}

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setAcceptDrops(true);
  m_session = new ProjectSession(this);
  m_runs = new RunController(this);
  m_draft = new ConfigDraft(this);
  m_context = {m_session, m_runs, m_draft};

  m_outer = new QStackedWidget(this);
  m_outer->addWidget(makeWelcome());

  auto* work = new QWidget(m_outer);
  auto* workLayout = new QHBoxLayout(work);
  workLayout->setContentsMargins(0, 0, 0, 0);
  m_pageList = new QListWidget(work);
  m_pageList->setObjectName(QStringLiteral("pageList"));
  m_pageList->setFixedWidth(190);
  m_pageList->setIconSize(QSize(20, 20));
  m_pageList->setStyleSheet(QStringLiteral(
      "QListWidget#pageList{background:#f3f4f6;border:none;border-right:1px solid #d9dce1;"
      "font-size:11pt;padding-top:8px}"
      "QListWidget#pageList::item{padding:8px 10px}"
      "QListWidget#pageList::item:selected{background:#dbe7f8;color:#0b3d91}"));
  const struct {
    QString title;
    QStyle::StandardPixmap icon;
  } pages[kPageCount] = {
      {tr("Data"), QStyle::SP_FileDialogDetailedView},
      {tr("Model & LoRA"), QStyle::SP_ComputerIcon},
      {tr("Hyperparameters"), QStyle::SP_FileDialogListView},
      {tr("Train"), QStyle::SP_MediaPlay},
      {tr("Runs"), QStyle::SP_FileDialogContentsView},
      {tr("Playground"), QStyle::SP_MessageBoxQuestion},
      {tr("Export"), QStyle::SP_DialogSaveButton},
      {tr("Attention"), QStyle::SP_FileDialogInfoView},
      {tr("Memory"), QStyle::SP_DriveHDIcon},
  };
  for (const auto& p : pages)
    new QListWidgetItem(style()->standardIcon(p.icon), p.title, m_pageList);
  workLayout->addWidget(m_pageList);

  auto* right = new QWidget(work);
  auto* rightLayout = new QVBoxLayout(right);
  m_banner = new MessageBanner(right);
  rightLayout->addWidget(m_banner);
  m_stack = new QStackedWidget(right);
  m_data = new DataPage(m_context, m_stack);
  m_model = new ModelPage(m_context, m_stack);
  m_hyper = new HyperparametersPage(m_context, m_stack);
  m_train = new TrainPage(m_context, m_stack);
  m_runsPage = new RunsPage(m_context, m_stack);
  m_playground = new PlaygroundPage(m_context, m_stack);
  m_export = new ExportPage(m_context, m_stack);
  for (QWidget* w : {static_cast<QWidget*>(m_data), static_cast<QWidget*>(m_model),
                     static_cast<QWidget*>(m_hyper), static_cast<QWidget*>(m_train),
                     static_cast<QWidget*>(m_runsPage), static_cast<QWidget*>(m_playground),
                     static_cast<QWidget*>(m_export)})
    m_stack->addWidget(w);
  m_attention = new AttentionPage(m_context, m_stack);
  m_stack->addWidget(m_attention);
  m_memory = new MemoryPage(m_context, m_stack);
  m_stack->addWidget(m_memory);
  rightLayout->addWidget(m_stack, 1);
  workLayout->addWidget(right, 1);
  m_outer->addWidget(work);
  setCentralWidget(m_outer);

  connect(m_pageList, &QListWidget::currentRowChanged, m_stack, &QStackedWidget::setCurrentIndex);
  connect(m_pageList, &QListWidget::currentRowChanged, this,
          [](int row) { AppSettings::setLastPage(pageKey(static_cast<Page>(row))); });
  connect(m_runsPage, &RunsPage::runDuplicated, this, [this] { showPage(kHyperparameters); });
  connect(m_runsPage, &RunsPage::resumeRequested, this, [this] { showPage(kTrain); });
  connect(m_runsPage, &RunsPage::showRequested, this, [this](qint64 id) {
    m_train->showRun(id);
    showPage(kTrain);
  });
  connect(m_session, &ProjectSession::opened, this, [this](const QString& path) {
    AppSettings::addRecentProject(path);
    rebuildRecentMenu();
    // A project opens on its "default" preset when it has one (the sample does).
    if (!m_hyper->loadPreset(QStringLiteral("default"))) m_draft->resetToDefaults();
    m_welcomeBanner->clearMessage();
    m_outer->setCurrentIndex(1);
    updateTitle();
  });
  connect(m_session, &ProjectSession::closed, this, [this] {
    m_outer->setCurrentIndex(0);
    updateTitle();
  });
  connect(m_runs, &RunController::stateChanged, this,
          [this](qint64, deeptune::RunState s, const QString&) {
            m_status->setText(tr("Training: %1").arg(RunsModel::stateText(s)));
          });
  connect(m_runs, &RunController::busyChanged, this, [this](bool busy) {
    if (!busy) m_status->setText(tr("Idle"));
  });

  buildMenus();
  m_status = new QLabel(tr("Idle"), this);
  statusBar()->addPermanentWidget(m_status);
  statusBar()->showMessage(tr("DeepTune Workbench %1").arg(engineVersion()), 5000);

  resize(1280, 820);
  const QByteArray geometry = AppSettings::windowGeometry();
  if (!geometry.isEmpty()) restoreGeometry(geometry);
  const QString last = AppSettings::lastPage();
  Page page = kData;
  for (int i = 0; i < kPageCount; ++i)
    if (pageKey(static_cast<Page>(i)) == last) page = static_cast<Page>(i);
  m_pageList->setCurrentRow(page);
  updateTitle();
}

MainWindow::~MainWindow() = default;

QString MainWindow::pageKey(Page page) {
  static const char* const keys[kPageCount] = {"data",   "model",     "hyperparameters",
                                               "train",  "runs",      "playground",
                                               "export", "attention", "memory"};
  return page >= 0 && page < kPageCount ? QString::fromLatin1(keys[page]) : QString();
}

void MainWindow::showPage(Page page) {
  m_pageList->setCurrentRow(page);
}
MainWindow::Page MainWindow::currentPage() const {
  return static_cast<Page>(m_pageList->currentRow());
}

QWidget* MainWindow::makeWelcome() {
  auto* w = new QWidget(this);
  auto* outer = new QVBoxLayout(w);
  outer->addStretch(1);
  auto* box = new QWidget(w);
  box->setMaximumWidth(560);
  auto* layout = new QVBoxLayout(box);
  auto* title = new QLabel(tr("DeepTune Workbench"), box);
  QFont f = title->font();
  f.setPointSizeF(f.pointSizeF() * 2.0);
  f.setBold(true);
  title->setFont(f);
  layout->addWidget(title);
  auto* text = new QLabel(
      tr("Fine-tune transformer models with LoRA and watch what happens inside. A project is one "
         "file that holds your datasets, runs and their curves."),
      box);
  text->setWordWrap(true);
  layout->addWidget(text);
  auto* buttons = new QHBoxLayout;
  auto* sample = new QPushButton(tr("New sample project…"), box);
  auto* fresh = new QPushButton(tr("New empty project…"), box);
  auto* open = new QPushButton(tr("Open project…"), box);
  buttons->addWidget(sample);
  buttons->addWidget(fresh);
  buttons->addWidget(open);
  layout->addLayout(buttons);
  connect(sample, &QPushButton::clicked, this, [this] { newProject(true); });
  connect(fresh, &QPushButton::clicked, this, [this] { newProject(false); });
  connect(open, &QPushButton::clicked, this, &MainWindow::chooseProject);
  m_welcomeBanner = new MessageBanner(box);
  layout->addWidget(m_welcomeBanner);
  auto* h = new QHBoxLayout;
  h->addStretch(1);
  h->addWidget(box, 2);
  h->addStretch(1);
  outer->addLayout(h);
  outer->addStretch(2);
  return w;
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&Project"));
  file->addAction(tr("&New Project…"), QKeySequence::New, this, [this] { newProject(false); });
  file->addAction(tr("New &Sample Project…"), this, [this] { newProject(true); });
  file->addAction(tr("&Open…"), QKeySequence::Open, this, &MainWindow::chooseProject);
  m_recent = file->addMenu(tr("Open &Recent"));
  QAction* close =
      file->addAction(tr("&Close Project"), QKeySequence::Close, this, &MainWindow::closeProject);
  close->setEnabled(false);
  connect(m_session, &ProjectSession::opened, close, [close] { close->setEnabled(true); });
  connect(m_session, &ProjectSession::closed, close, [close] { close->setEnabled(false); });
  file->addSeparator();
  file->addAction(tr("&Add Dataset…"), this, [this] {
    if (!m_session->isOpen()) return;
    showPage(kData);
    m_data->chooseFile();
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
  rebuildRecentMenu();

  QMenu* settings = menuBar()->addMenu(tr("&Settings"));
  QMenu* language = settings->addMenu(tr("&Language"));
  auto* group = new QActionGroup(this);
  const QString current = AppSettings::language();
  QAction* system = language->addAction(tr("System language"));
  system->setCheckable(true);
  system->setChecked(current.isEmpty());
  system->setData(QString());
  group->addAction(system);
  for (const QString& code : availableLanguages()) {
    QAction* a = language->addAction(languageDisplayName(code));
    a->setCheckable(true);
    a->setChecked(code == current);
    a->setData(code);
    group->addAction(a);
  }
  connect(group, &QActionGroup::triggered, this, [this](QAction* a) {
    AppSettings::setLanguage(a->data().toString());
    m_banner->showMessage(MessageBanner::Kind::kInfo,
                          tr("The language changes the next time the workbench starts."));
  });

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About DeepTune Workbench"), this, [this] {
    auto* box = new QMessageBox(
        QMessageBox::Information, tr("About DeepTune Workbench"),
        tr("DeepTune Workbench %1\nLoRA fine-tuning with every step recorded in a project file.\n"
           "LibTorch %2")
            .arg(engineVersion(), torchVersion()),
        QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
  });
}

void MainWindow::rebuildRecentMenu() {
  m_recent->clear();
  const QStringList recent = AppSettings::recentProjects();
  for (const QString& path : recent)
    m_recent->addAction(QFileInfo(path).fileName() + QStringLiteral("  —  ") + path, this,
                        [this, path] { openProject(path); });
  if (!recent.isEmpty()) {
    m_recent->addSeparator();
    m_recent->addAction(tr("Clear list"), this, [this] {
      AppSettings::clearRecentProjects();
      rebuildRecentMenu();
    });
  }
  m_recent->setEnabled(!recent.isEmpty());
}

void MainWindow::updateTitle() {
  if (m_session->isOpen()) {
    setWindowFilePath(m_session->path());
    setWindowTitle(tr("%1 — DeepTune Workbench").arg(QFileInfo(m_session->path()).fileName()));
  } else {
    setWindowFilePath(QString());
    setWindowTitle(tr("DeepTune Workbench"));
  }
}

bool MainWindow::openProject(const QString& path) {
  if (m_runs->isBusy()) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("A run is in progress"),
                          tr("Stop it before opening another project."));
    return false;
  }
  const UserMessage error = m_session->open(path);
  if (!error.isEmpty()) {
    showProjectError(error);
    if (!QFileInfo::exists(path)) {
      AppSettings::removeRecentProject(path);
      rebuildRecentMenu();
    }
    return false;
  }
  m_banner->clearMessage();
  return true;
}

bool MainWindow::createProject(const QString& path, bool withSample) {
  if (m_runs->isBusy()) return false;
  const UserMessage error = m_session->create(path, withSample);
  if (!error.isEmpty()) {
    showProjectError(error);
    return false;
  }
  m_banner->clearMessage();
  return true;
}

void MainWindow::showProjectError(const UserMessage& error) {
  // Shown where the user is: the pages' banner, and the welcome screen when no project is open.
  m_banner->showMessage(MessageBanner::Kind::kError, error.headline, error.detail);
  m_welcomeBanner->showMessage(MessageBanner::Kind::kError, error.headline, error.detail);
}

void MainWindow::closeProject() {
  if (m_runs->isBusy()) {
    m_banner->showMessage(MessageBanner::Kind::kError, tr("A run is in progress"),
                          tr("Stop it before closing the project."));
    return;
  }
  m_session->close();
}

void MainWindow::newProject(bool withSample) {
  const QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
  const QString path = chooseSaveFile(
      this, withSample ? tr("New sample project") : tr("New project"),
      dir + (withSample ? QStringLiteral("/sample.dtproj") : QStringLiteral("/project.dtproj")),
      tr(kProjectFilter));
  if (path.isEmpty()) return;
  createProject(path.endsWith(QLatin1String(".dtproj")) ? path : path + QStringLiteral(".dtproj"),
                withSample);
}

void MainWindow::chooseProject() {
  const QString path =
      chooseOpenFile(this, tr("Open project"), QString(),
                     tr(kProjectFilter) + QStringLiteral(";;") + tr("All files (*)"));
  if (!path.isEmpty()) openProject(path);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (m_runs->isBusy()) {
    // Stopping writes a checkpoint, so the run can be resumed next time; the wait is short
    // (the trainer checks between steps).
    m_runs->stop();
    m_runs->waitUntilIdle(60000);
  }
  AppSettings::setWindowGeometry(saveGeometry());
  AppSettings::setLastPage(pageKey(currentPage()));
  event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.first().isLocalFile()) return;
  const QString path = urls.first().toLocalFile();
  if (path.endsWith(QLatin1String(".dtproj"))) {
    openProject(path);
  } else if (m_session->isOpen()) {
    showPage(kData);
    m_data->addDatasetInteractively(path);
  }
}
