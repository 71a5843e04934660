#!/usr/bin/env bash
# Fetches (here, on Debian 12) the packages the GPU machine lacks for our build: sqlite3.h and
# Qt 6 Core/Test (for the Qt Test suites), PCRE2 and utf8proc headers with their libraries (the
# tokenizer's regexes and NFC). They travel as .deb files in the git-ignored .carry/.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .carry/debs
cd .carry/debs
apt-get download libsqlite3-dev qt6-base-dev qt6-base-dev-tools libqt6core6 libqt6test6 libqt6dbus6 \
  libicu72 libdouble-conversion3 libb2-1 libpcre2-16-0 libglib2.0-0 qmake6 qmake6-bin \
  libpcre2-dev libpcre2-8-0 libpcre2-32-0 libpcre2-posix3 libutf8proc-dev libutf8proc2
ls -la
