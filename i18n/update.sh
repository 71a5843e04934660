#!/usr/bin/env bash
# Rescans the Qt layers for tr() strings and updates both translation sources in place.
# Translations already made are kept; new strings appear as unfinished until translated.
set -euo pipefail
cd "$(dirname "$0")/.."
LUPDATE=/usr/lib/qt6/bin/lupdate
"$LUPDATE" -no-obsolete -locations relative app widgets views \
  -ts i18n/deeptune_en.ts i18n/deeptune_zh_CN.ts
