/* SPDX-License-Identifier: MIT */
/* subnetra/sdk.h: everything a plugin author includes. */
#ifndef SUBNETRA_SDK_H
#define SUBNETRA_SDK_H
#include "subnetra/version.h"
#include "subnetra/packet.h"
#include "subnetra/counters.h"
#include "subnetra/host.h"
#include "subnetra/plugin.h"
#include "subnetra/egress.h"
#include "subnetra/crypto.h"
#include "subnetra/os.h"
#include "subnetra/options.h"
#endif
