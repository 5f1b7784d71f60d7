#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""scripts/macos-cross/macho_check.py ARCH BUILD_DIR: check what the macOS
cross build made (scripts/macos-cross.sh).

For ARCH (arm64 or x86_64) every expected output must be a 64-bit
little-endian Mach-O file of that CPU type, built for macOS (LC_BUILD_VERSION
platform 1); the programs executables with an entry point (LC_MAIN); the
plugins dylibs or bundles that define and export _sn_plugin_entry_v1; and all
of them linked against nothing but libSystem (the dependencies are linked in
statically), so that nothing of the Linux host crept in. No Linux-only plugin
may be there. Prints one line per file; exits 1 on the first problem.

Layouts from Apple's <mach-o/loader.h> and <mach-o/nlist.h>.
"""
import os
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
CPU = {"arm64": 0x0100000C, "x86_64": 0x01000007}  # CPU_TYPE_ARM64, CPU_TYPE_X86_64
MH_EXECUTE, MH_DYLIB, MH_BUNDLE = 2, 6, 8
LC_SYMTAB, LC_LOAD_DYLIB, LC_BUILD_VERSION, LC_MAIN = 0x2, 0xC, 0x32, 0x80000028
PLATFORM_MACOS = 1
N_EXT, N_TYPE, N_SECT = 0x01, 0x0E, 0x0E
LIBSYSTEM = "/usr/lib/libSystem.B.dylib"

PROGRAMS = ["subnetrad", "subnetra"]
PLUGINS = ["plugins/crypto_chacha.so", "plugins/egress_raw_direct.so", "plugins/os_darwin.so"]
NOT_HERE = ["plugins/os_linux.so"]
ENTRY = b"_sn_plugin_entry_v1"


class Bad(Exception):
    pass


def load_commands(data):
    magic, cputype, _sub, filetype, ncmds, _size = struct.unpack_from("<IiiIII", data, 0)
    if magic != MH_MAGIC_64:
        raise Bad("not a 64-bit little-endian Mach-O file (magic 0x%08x)" % magic)
    off = 32  # sizeof(struct mach_header_64)
    cmds = []
    for _ in range(ncmds):
        cmd, size = struct.unpack_from("<II", data, off)
        if size < 8 or off + size > len(data):
            raise Bad("load command at %d runs past the file" % off)
        cmds.append((cmd, off))
        off += size
    return cputype & 0xFFFFFFFF, filetype, cmds


def cstr(data, off):
    end = data.index(b"\0", off)
    return data[off:end].decode("utf-8", "replace")


def dylibs(data, cmds):
    # struct dylib_command: cmd, cmdsize, dylib.name.offset, ...
    return [cstr(data, off + struct.unpack_from("<I", data, off + 8)[0])
            for cmd, off in cmds if cmd == LC_LOAD_DYLIB]


def platform(data, cmds):
    for cmd, off in cmds:
        if cmd == LC_BUILD_VERSION:
            plat, minos = struct.unpack_from("<II", data, off + 8)
            return plat, "%d.%d" % (minos >> 16, (minos >> 8) & 0xFF)
    raise Bad("no LC_BUILD_VERSION: not marked as built for any platform")


def exports_entry(data, cmds):
    for cmd, off in cmds:
        if cmd != LC_SYMTAB:
            continue
        symoff, nsyms, stroff, _strsize = struct.unpack_from("<IIII", data, off + 8)
        for i in range(nsyms):
            # struct nlist_64: n_strx u32, n_type u8, n_sect u8, n_desc u16, n_value u64
            strx, ntype, _nsect, _desc, _value = struct.unpack_from("<IBBHQ", data, symoff + 16 * i)
            if (ntype & N_EXT) and (ntype & N_TYPE) == N_SECT and \
                    data[stroff + strx:].startswith(ENTRY + b"\0"):
                return True
    return False


def check(path, arch, kinds):
    with open(path, "rb") as f:
        data = f.read()
    cputype, filetype, cmds = load_commands(data)
    if cputype != CPU[arch]:
        raise Bad("CPU type 0x%08x, not %s (0x%08x)" % (cputype, arch, CPU[arch]))
    if filetype not in kinds:
        raise Bad("file type %d, expected one of %s" % (filetype, sorted(kinds)))
    plat, minos = platform(data, cmds)
    if plat != PLATFORM_MACOS:
        raise Bad("built for platform %d, not macOS (1)" % plat)
    libs = dylibs(data, cmds)
    if libs != [LIBSYSTEM]:
        raise Bad("links %s, expected only %s" % (libs, LIBSYSTEM))
    if filetype == MH_EXECUTE and not any(cmd == LC_MAIN for cmd, _ in cmds):
        raise Bad("an executable without LC_MAIN")
    if filetype != MH_EXECUTE and not exports_entry(data, cmds):
        raise Bad("does not export %s" % ENTRY.decode())
    return "Mach-O 64-bit %s %s, macOS %s+, links %s" % (
        arch, {MH_EXECUTE: "executable", MH_DYLIB: "dylib", MH_BUNDLE: "bundle"}[filetype],
        minos, LIBSYSTEM)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CPU:
        sys.exit("usage: macho_check.py arm64|x86_64 BUILD_DIR")
    arch, top = sys.argv[1], sys.argv[2]
    wanted = [(p, {MH_EXECUTE}) for p in PROGRAMS] + [(p, {MH_DYLIB, MH_BUNDLE}) for p in PLUGINS]
    for rel, kinds in wanted:
        path = os.path.join(top, rel)
        try:
            print("%s: %s" % (path, check(path, arch, kinds)))
        except (Bad, OSError, ValueError, struct.error) as e:
            sys.exit("macho_check: %s: %s" % (path, e))
    for rel in NOT_HERE:
        if os.path.exists(os.path.join(top, rel)):
            sys.exit("macho_check: %s was built for macOS, where it cannot work" % rel)


if __name__ == "__main__":
    main()
