#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests unless /usr/bin/chromium is already there.
# The tests drive it with Playwright (`executable_path=/usr/bin/chromium`); `playwright install` is not needed.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "installing chromium with apt-get ..." >&2
as_root apt-get update -qq >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
