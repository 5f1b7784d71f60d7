#!/usr/bin/env bash
# no_malloc.sh with every node on fec_xor over raw_direct: the layer's
# framing, parities, flush timer and rebuilding allocate nothing either.
exec env SN_E2E_EGRESS=fec_xor bash "$(dirname "$0")/no_malloc.sh"
