#!/usr/bin/env bash
# Regenerate docs/screenshots/ (the board, a department's page, the monthly 通报, the acknowledgement page and
# the bureaus' upload page) from the
# browser tests, which photograph the pages as headless Chromium draws them. Open the PNGs after running it.
set -euo pipefail
cd "$(dirname "$0")/.."
export SCREENSHOT_DIR="$PWD/docs/screenshots"
exec ./dev test -q -p no:cacheprovider -p no:randomly tests/e2e/test_board_browser.py tests/e2e/test_upload_browser.py -k "not postgres" "$@"
