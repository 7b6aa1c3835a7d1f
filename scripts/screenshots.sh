#!/usr/bin/env bash
# Regenerate docs/screenshots/ (the board, one department's board, the acknowledgement page) from the
# browser tests, which photograph the pages as headless Chromium draws them. Open the PNGs after running it.
set -euo pipefail
cd "$(dirname "$0")/.."
export SCREENSHOT_DIR="$PWD/docs/screenshots"
exec ./dev test -q -p no:cacheprovider tests/e2e/test_board_browser.py "$@"
