// What every page of the main window shares: the open project, the training controller and the
// run config being prepared. Owned by the main window; pages hold these pointers.
#pragma once

class ProjectSession;
class RunController;
class ConfigDraft;

struct WorkbenchContext {
  ProjectSession* session = nullptr;
  RunController* runs = nullptr;
  ConfigDraft* draft = nullptr;
};
