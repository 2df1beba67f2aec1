#!/usr/bin/env python3
"""bin/modnet-ebpf-bench's objects for `bpftool prog run` (BPF_PROG_TEST_RUN): XdpProgramBenchmark's parse, flow
and csum in BPF assembly (LLVM's syntax) inside C that clang compiles to an ELF object both Linux's bpftool and
modnet's load: the same instructions as the JMH benchmark and the DPDK driver run; the 64-byte UDP frame and the
1 KiB checksum frame as data_in files; and the bpftool commands that fill the flow map with its 1024 keys.
    xdp_bench_objects.py DIR    writes DIR/{parse,flow,csum}.c, DIR/frame64.bin, DIR/frame1k.bin, DIR/flows.cmds
"""
import sys, os
out = sys.argv[1]
# C with the program as a naked function's inline assembly (as the kernel's verifier selftests are written):
# clang keeps the instructions as they are and gives the object BTF for the map, which libbpf 1.0 needs
C_HEAD = """typedef unsigned int __u32;
typedef unsigned long long __u64;
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) __typeof__(val) *name
"""
C_MAP = """struct {
    __uint(type, 1); /* BPF_MAP_TYPE_HASH */
    __uint(max_entries, 1024);
    __type(key, __u32[4]);
    __type(value, __u64);
} flows SEC(".maps");
"""
C_PROG = """SEC("xdp") __attribute__((naked)) int {n}(void)
{{
    asm volatile(
{body}
        :: {operands});
}}
char _license[] SEC("license") = "GPL";
"""
parse_body = """r2 = *(u32 *)(r1 + 0)
r3 = *(u32 *)(r1 + 4)
r4 = r2
r4 += 42
if r4 > r3 goto .Lpass
r5 = *(u16 *)(r2 + 12)
if r5 != 8 goto .Lpass
r5 = *(u32 *)(r2 + 26)
*(u32 *)(r10 - 16) = r5
r5 = *(u32 *)(r2 + 30)
*(u32 *)(r10 - 12) = r5
r5 = *(u32 *)(r2 + 34)
*(u32 *)(r10 - 8) = r5
r5 = *(u8 *)(r2 + 23)
*(u32 *)(r10 - 4) = r5
"""
lookup = """r1 = flows ll
r2 = r10
r2 += -16
call 1
if r0 == 0 goto .Lpass
r1 = 1
lock *(u64 *)(r0 + 0) += r1
"""
end = "r0 = 1\nexit\n.Lpass:\nr0 = 2\nexit\n"
csum = "r2 = *(u32 *)(r1 + 0)\nr3 = *(u32 *)(r1 + 4)\nr4 = r2\nr4 += 1024\nif r4 > r3 goto .Lpass\nr0 = 0\n"
for off in range(0, 1024, 4):
    csum += f"r5 = *(u32 *)(r2 + {off})\nr0 += r5\n"
csum += "r5 = r0\nr5 >>= 32\nw0 = w0\nr0 += r5\n" * 2
csum += "r5 = r0\nr5 >>= 16\nr0 &= 65535\nr0 += r5\n" * 2
csum += "r0 &= 3\nexit\n.Lpass:\nr0 = 2\nexit\n"
progs = {"parse": parse_body + end, "flow": parse_body + lookup + end, "csum": csum}
for n, body in progs.items():
    lines = "\n".join('        "%s\\n"' % l.replace("flows ll", "%[flows] ll").replace(".Lpass", "l_pass_%=")
                      for l in body.splitlines())
    text = C_HEAD + (C_MAP if n == "flow" else "") + C_PROG.format(
        n=n, body=lines, operands='[flows] "i"(&flows)' if n == "flow" else "")
    open(os.path.join(out, n + ".c"), "w").write(text)
# the frames: XdpProgramBenchmark's 64-byte UDP frame, and its 1 KiB checksum frame
f = bytearray(64)
f[12] = 0x08; f[14] = 0x45; f[23] = 17
f[26] = 10; f[29] = 1; f[30] = 10; f[33] = 2
f[34] = 0x30; f[35] = 0x39; f[36] = 0x00; f[37] = 0x35
open(os.path.join(out, "frame64.bin"), "wb").write(f)
open(os.path.join(out, "frame1k.bin"), "wb").write(bytes((i * 7 + 1) & 0xff for i in range(1024)))
# the flow map's 1024 keys, as XdpProgramBenchmark fills it
key = list(f[26:38]) + [17, 0, 0, 0]
with open(os.path.join(out, "flows.cmds"), "w") as c:
    for i in range(1024):
        k = list(key)
        if i:
            k[0] = i & 0xff; k[1] = i >> 8
        c.write("bpftool map update pinned MAPDIR/flows key " + " ".join(map(str, k)) + " value 0 0 0 0 0 0 0 0\n")
