#!/usr/bin/env bash
# Install the Debian packages the tests use (real components, no mocks) when they are missing.
set -euo pipefail
need=()
command -v openssl >/dev/null || need+=(openssl)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v softhsm2-util >/dev/null || need+=(softhsm2)
command -v pkcs11-tool >/dev/null || need+=(opensc)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v chromium >/dev/null || need+=(chromium)
command -v pdftotext >/dev/null || need+=(poppler-utils)  # explain: the PDF printout is read back as text
# PostgreSQL for the shared-ledger tests (Debian keeps initdb in /usr/lib/postgresql/*/bin, off PATH)
command -v initdb >/dev/null || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[ -x /usr/bin/time ] || need+=(time)  # GNU time: per-process peak memory in bench/run.py
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "install-system-deps: missing ${need[*]} and not root; the tests that need them will say so" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-system-deps: installing ${need[*]}" >&2
# Wait up to 10 minutes for another apt (unattended upgrades, a parallel job) instead of giving up.
LOCK=(-o DPkg::Lock::Timeout=600)
$SUDO apt-get "${LOCK[@]}" update -qq >/dev/null || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${LOCK[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || echo "install-system-deps: could not install ${need[*]}; the tests that need them will say so" >&2
