// Typed errors of the engine. Internals throw; the boundary (CLI, worker) catches once and shows
// what() — which always names the file, key or line at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace deeptune {

enum class ErrorKind {
  kInvalidInput,  // the user's file, config or arguments are wrong (CLI exit status 2)
  kRuntime,       // something failed while running (CLI exit status 1)
};

class Error : public std::runtime_error {
 public:
  // `where` names the file (optionally ":line"), config key or object at fault; may be empty.
  Error(ErrorKind kind, std::string where, std::string message);

  ErrorKind kind() const { return kind_; }
  const std::string& where() const { return where_; }
  const std::string& message() const { return message_; }

 private:
  ErrorKind kind_;
  std::string where_;
  std::string message_;
};

// Bad input: malformed dataset, config, checkpoint or project file; bad arguments.
class InputError : public Error {
 public:
  InputError(std::string where, std::string message)
      : Error(ErrorKind::kInvalidInput, std::move(where), std::move(message)) {}
};

// A failure while running (I/O error, numerical blow-up, out of memory, ...).
class RunError : public Error {
 public:
  RunError(std::string where, std::string message)
      : Error(ErrorKind::kRuntime, std::move(where), std::move(message)) {}
};

// The disk filled while writing. Nothing is wrong with the run itself: it ends 'interrupted' and
// can be resumed from its last complete checkpoint once space is freed.
class DiskFullError : public RunError {
 public:
  using RunError::RunError;
};

}  // namespace deeptune
