#!/usr/bin/env bash
# no_malloc.sh with every node on kcp_arq over raw_direct: the layer's
# framing, acknowledgements, timer and resendings allocate nothing either.
exec env SN_E2E_EGRESS=kcp_arq bash "$(dirname "$0")/no_malloc.sh"
