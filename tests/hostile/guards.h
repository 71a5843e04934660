// Guards for suites that feed the engine hostile input, so that a regression fails the suite at
// once instead of hanging it: a call that blocks on a FIFO is released, and a crash ends the test.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <QtGlobal>
#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <thread>

#include "deeptune/error.h"

namespace deeptune::test {

// Qt Test's crash handler forks to print a stack trace; after a stack overflow inside malloc
// (where unbounded recursion over deeply nested input ends) the fork deadlocks on malloc's lock
// and the suite hangs until CTest's timeout. Set before QTest starts, in every suite including
// this header.
inline const bool kQtStackDumpDisabled = qputenv("QTEST_DISABLE_STACK_DUMP", "1");

struct GuardedCall {
  bool blocked = false;                    // had to be released through the FIFO
  std::optional<InputError> input_error;   // what it threw, if an InputError
  std::optional<std::string> other_error;  // what() of anything else it threw
};

// Runs f() on a thread. If it has not returned after `patience` it is taken to be blocked opening
// the FIFO at `fifo`, which is then opened and closed from the writing side so the reader sees
// end-of-file and the thread can be joined; `blocked` says so.
template <typename F>
GuardedCall call_guarded(const std::string& fifo, F&& f,
                         std::chrono::milliseconds patience = std::chrono::seconds(5)) {
  GuardedCall result;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    try {
      f();
    } catch (const InputError& e) {
      result.input_error = e;
    } catch (const std::exception& e) {
      result.other_error = e.what();
    } catch (...) {
      result.other_error = "an exception that is not a std::exception";
    }
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!done && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Fails with ENXIO until a reader waits on the FIFO; a call may open it more than once.
  while (!done) {
    result.blocked = true;
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  worker.join();
  return result;
}

}  // namespace deeptune::test
