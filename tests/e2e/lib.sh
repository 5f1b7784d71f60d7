# tests/e2e/lib.sh: helpers shared by the end-to-end tests (sourced).
# Every test makes its own temp dir and namespaces with a unique suffix and
# removes them in an EXIT trap, even on failure; every wait is bounded.

SN_SRC=${SN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SN_BUILD=${SN_BUILD:-$SN_SRC/build}
SUBNETRAD=$SN_BUILD/subnetrad
SUBNETRA=$SN_BUILD/subnetra
PLUGINS=$SN_BUILD/plugins

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }
skip() { echo "SKIP: $*"; exit 77; }
need_root() { [ "$(id -u)" = 0 ] || skip "needs root"; }
