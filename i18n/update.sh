#!/usr/bin/env bash
# Rescans the Qt layers for tr() strings and updates translation sources in place: both committed
# ones by default, or the .ts files named. Translations already made are kept; new strings appear
# as unfinished until translated. tests/gui/tst_i18n runs it into a temporary file to find strings
# the committed sources lack, so the folders scanned are listed here only.
set -euo pipefail
cd "$(dirname "$0")/.."
LUPDATE=${LUPDATE:-/usr/lib/qt6/bin/lupdate}
if [ $# -eq 0 ]; then set -- i18n/deeptune_en.ts i18n/deeptune_zh_CN.ts; fi
"$LUPDATE" -no-obsolete -locations relative app widgets views workbench -ts "$@"
