// The two SHA-256 compression paths (portable loop, x86 SHA extensions), for tests that check one
// against the other.
#pragma once

namespace deeptune::detail {
void sha256_force_portable(bool on);  // true: every hash takes the portable loop
bool sha256_hardware();               // whether hashes use the SHA extensions now
}  // namespace deeptune::detail
