/*
 * The native side of bin/modnet-ebpf-bench: the same eBPF programs as XdpProgramBenchmark's
 * parse, csum and flow, loaded by DPDK's librte_bpf (rte_bpf_load: its validator, then its x86-64
 * JIT) and timed on the same frames. DPDK has no XDP context: a program's r1 points at the frame and
 * its end is r1 + the frame's length, so the programs below compute data_end instead of reading it
 * from xdp_md and keep the same bounds check. DPDK has no maps either: the flow program's lookup is a
 * C function in the program's symbol table (RTE_BPF_XTYPE_FUNC), an open-addressed table of 1024
 * 16-byte keys probed by two 64-bit compares, as modnet's hash map probes them.
 *
 * Prints one line per program: name, median ns per run of the JIT'd function over 15 samples of about
 * a second each (argv[1]: seconds per sample), as JMH's iterations on modnet's side, and the same for
 * rte_bpf_exec (DPDK's interpreter; samples of a fifth of that); last, the JIT's median by the thread's
 * CPU time (what XdpCpuTime prints for modnet's side).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <rte_bpf.h>
#include <rte_errno.h>

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* opcodes, as in linux/bpf.h */
enum {
    LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, ALU64 = 0x07,
    W = 0x00, H = 0x08, B = 0x10, DW = 0x18, MEM = 0x60, ATOMIC = 0xc0, K = 0x00, X = 0x08,
    ADD = 0x00, AND = 0x50, RSH = 0x70, MOV = 0xb0, JEQ = 0x10, JGT = 0x20, JNE = 0x50,
    CALL = 0x80, EXIT = 0x90,
};

#define I(c, d, s, o, i) ((struct ebpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOVK(d, i) I(ALU64 | MOV | K, d, 0, 0, i)
#define MOVX(d, s) I(ALU64 | MOV | X, d, s, 0, 0)
#define ADDK(d, i) I(ALU64 | ADD | K, d, 0, 0, i)
#define ADDX(d, s) I(ALU64 | ADD | X, d, s, 0, 0)
#define ANDK(d, i) I(ALU64 | AND | K, d, 0, 0, i)
#define RSHK(d, i) I(ALU64 | RSH | K, d, 0, 0, i)
#define LDXW(d, s, o) I(LDX | MEM | W, d, s, o, 0)
#define LDXH(d, s, o) I(LDX | MEM | H, d, s, o, 0)
#define LDXB(d, s, o) I(LDX | MEM | B, d, s, o, 0)
#define STXW(d, o, s) I(STX | MEM | W, d, s, o, 0)
#define XADDDW(d, o, s) I(STX | ATOMIC | DW, d, s, o, 0)
#define JGTX(d, s, o) I(JMP | JGT | X, d, s, o, 0)
#define JNEK(d, i, o) I(JMP | JNE | K, d, 0, o, i)
#define JEQK(d, i, o) I(JMP | JEQ | K, d, 0, o, i)
#define CALLK(i) I(JMP | CALL, 0, 0, 0, i)
#define RET() I(JMP | EXIT, 0, 0, 0, 0)

#define FRAME 64
#define CSUM_LEN 1024

/* flow's key: saddr, daddr, sport/dport, protocol, as the program stores it at r10-16 */
#define FLOWS 1024
#define SLOTS 2048
static uint64_t slot_key[SLOTS][2];
static uint64_t slot_value[SLOTS];
static uint8_t slot_used[SLOTS];

static inline uint64_t hash(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9e3779b97f4a7c15ull ^ b * 0xc2b2ae3d27d4eb4full;
    return h ^ (h >> 29);
}

static uint64_t flow_lookup(uint64_t key_addr, uint64_t u2, uint64_t u3, uint64_t u4, uint64_t u5)
{
    (void)u2; (void)u3; (void)u4; (void)u5;
    const uint64_t *key = (const uint64_t *)(uintptr_t)key_addr;
    uint64_t a = key[0], b = key[1];
    for (uint64_t i = hash(a, b) & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
        if (!slot_used[i])
            return 0;
        if (slot_key[i][0] == a && slot_key[i][1] == b)
            return (uint64_t)(uintptr_t)&slot_value[i];
    }
}

static void flow_insert(const uint8_t key[16])
{
    uint64_t a, b;
    memcpy(&a, key, 8);
    memcpy(&b, key + 8, 8);
    uint64_t i = hash(a, b) & (SLOTS - 1);
    while (slot_used[i])
        i = (i + 1) & (SLOTS - 1);
    slot_used[i] = 1;
    slot_key[i][0] = a;
    slot_key[i][1] = b;
}

/* r2 = data, r3 = data_end (r1 + len), then XdpProgramBenchmark's check: data + 42 > data_end -> pass */
#define PROLOGUE(len, need) \
    MOVX(2, 1), MOVX(3, 1), ADDK(3, len), MOVX(4, 2), ADDK(4, need)

static const struct ebpf_insn parse_prog[] = {
    PROLOGUE(FRAME, 42),
    JGTX(4, 3, 12),
    LDXH(5, 2, 12), JNEK(5, 0x8, 10),
    LDXW(5, 2, 26), STXW(10, -16, 5),
    LDXW(5, 2, 30), STXW(10, -12, 5),
    LDXW(5, 2, 34), STXW(10, -8, 5),
    LDXB(5, 2, 23), STXW(10, -4, 5),
    MOVK(0, 1), RET(),
    MOVK(0, 2), RET(),
};

static const struct ebpf_insn flow_prog[] = {
    PROLOGUE(FRAME, 42),
    JGTX(4, 3, 18),
    LDXH(5, 2, 12), JNEK(5, 0x8, 16),
    LDXW(5, 2, 26), STXW(10, -16, 5),
    LDXW(5, 2, 30), STXW(10, -12, 5),
    LDXW(5, 2, 34), STXW(10, -8, 5),
    LDXB(5, 2, 23), STXW(10, -4, 5),
    MOVX(1, 10), ADDK(1, -16),
    CALLK(0),
    JEQK(0, 0, 4),
    MOVK(1, 1),
    XADDDW(0, 0, 1),
    MOVK(0, 1), RET(),
    MOVK(0, 2), RET(),
};

/* csum: the 1 KiB frame summed as 256 32-bit words into 64 bits, folded to 16 (RFC 1071), unrolled */
static struct ebpf_insn csum_prog[5 + 1 + 1 + 2 * (CSUM_LEN / 4) + 16 + 2 + 2];

static uint32_t build_csum(void)
{
    uint32_t n = 0;
    struct ebpf_insn pro[] = { PROLOGUE(CSUM_LEN, CSUM_LEN) };
    for (uint32_t i = 0; i < LEN(pro); i++)
        csum_prog[n++] = pro[i];
    uint32_t jump = n++;
    csum_prog[n++] = MOVK(0, 0);
    for (int off = 0; off < CSUM_LEN; off += 4) {
        csum_prog[n++] = LDXW(5, 2, off);
        csum_prog[n++] = ADDX(0, 5);
    }
    for (int round = 0; round < 2; round++) {
        csum_prog[n++] = MOVX(5, 0);
        csum_prog[n++] = RSHK(5, 32);
        csum_prog[n++] = I(ALU | MOV | X, 0, 0, 0, 0); /* w0 = w0: the low 32 bits */
        csum_prog[n++] = ADDX(0, 5);
    }
    for (int round = 0; round < 2; round++) {
        csum_prog[n++] = MOVX(5, 0);
        csum_prog[n++] = RSHK(5, 16);
        csum_prog[n++] = ANDK(0, 0xffff);
        csum_prog[n++] = ADDX(0, 5);
    }
    csum_prog[n++] = ANDK(0, 3);
    csum_prog[n++] = RET();
    csum_prog[jump] = JGTX(4, 3, (int16_t)(n - jump - 1));
    csum_prog[n++] = MOVK(0, 2);
    csum_prog[n++] = RET();
    return n;
}

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* the thread's CPU time: what a sample cost without the time it waited for a CPU (load-robust) */
static double cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define SAMPLES 15
static volatile uint64_t sink;
/* how long one sample runs, as long as one of JMH's measurement iterations (-r 1: 1 s) */
static double sample_ns = 1e9;

/* how many runs of f take about sample_ns */
static long calibrate(uint64_t (*f)(void *), void *ctx)
{
    long runs = 1000;
    for (;;) {
        double t0 = now_ns();
        for (long r = 0; r < runs; r++)
            sink += f(ctx);
        double t = now_ns() - t0;
        if (t > 5e7)
            return (long)(runs * (sample_ns / t)) + 1;
        runs *= 2;
    }
}

/* median over SAMPLES of the ns per run of `runs` runs, by the wall clock; *cpu the same by the thread's CPU time */
static double time_jit(uint64_t (*f)(void *), void *ctx, double *cpu)
{
    double s[SAMPLES], c[SAMPLES];
    long runs = calibrate(f, ctx);
    for (int k = 0; k < SAMPLES; k++) {
        uint64_t acc = 0;
        double t0 = now_ns(), c0 = cpu_ns();
        for (long r = 0; r < runs; r++)
            acc += f(ctx);
        c[k] = (cpu_ns() - c0) / runs;
        s[k] = (now_ns() - t0) / runs;
        sink += acc;
    }
    qsort(s, SAMPLES, sizeof(double), cmp);
    qsort(c, SAMPLES, sizeof(double), cmp);
    *cpu = c[SAMPLES / 2];
    return s[SAMPLES / 2];
}

static double time_vm(const struct rte_bpf *bpf, void *ctx, long runs)
{
    if (runs < 1)
        runs = 1;
    double s[SAMPLES];
    for (int k = 0; k < SAMPLES; k++) {
        uint64_t acc = 0;
        double t0 = now_ns();
        for (long r = 0; r < runs; r++)
            acc += rte_bpf_exec(bpf, ctx);
        s[k] = (now_ns() - t0) / runs;
        sink += acc;
    }
    qsort(s, SAMPLES, sizeof(double), cmp);
    return s[SAMPLES / 2];
}

static int bench(const char *name, const struct ebpf_insn *ins, uint32_t n, void *frame, size_t len,
        uint64_t expect)
{
    struct rte_bpf_xsym xsym[1];
    memset(xsym, 0, sizeof(xsym));
    xsym[0].name = "flow_lookup";
    xsym[0].type = RTE_BPF_XTYPE_FUNC;
    xsym[0].func.val = flow_lookup;
    xsym[0].func.nb_args = 1;
    xsym[0].func.args[0] = (struct rte_bpf_arg){ .type = RTE_BPF_ARG_PTR, .size = 16 };
    xsym[0].func.ret = (struct rte_bpf_arg){ .type = RTE_BPF_ARG_PTR, .size = 8 };
    struct rte_bpf_prm prm = {
        .ins = ins, .nb_ins = n, .xsym = xsym, .nb_xsym = 1,
        .prog_arg = { .type = RTE_BPF_ARG_PTR, .size = len },
    };
    struct rte_bpf *bpf = rte_bpf_load(&prm);
    if (bpf == NULL) {
        fprintf(stderr, "rte_bpf_bench: %s: rte_bpf_load refused it (rte_errno %d)\n", name, rte_errno);
        return 1;
    }
    struct rte_bpf_jit jit;
    if (rte_bpf_get_jit(bpf, &jit) != 0 || jit.func == NULL) {
        fprintf(stderr, "rte_bpf_bench: %s: no JIT'd code (librte_bpf built without its x86-64 JIT?)\n", name);
        return 1;
    }
    uint64_t got = jit.func(frame), vm = rte_bpf_exec(bpf, frame);
    if (got != expect || vm != expect) {
        fprintf(stderr, "rte_bpf_bench: %s returned %lu (JIT) and %lu (interpreter), expected %lu\n", name,
                (unsigned long)got, (unsigned long)vm, (unsigned long)expect);
        return 1;
    }
    double cpu;
    double j = time_jit(jit.func, frame, &cpu);
    double v = time_vm(bpf, frame, (long)(sample_ns / 5 / (j * 10)));
    printf("%-6s jit %8.2f ns  interpreter %8.2f ns  (%u insns, %zu bytes of x86-64)  cpu %8.2f ns\n", name, j, v, n, jit.sz, cpu);
    rte_bpf_destroy(bpf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        sample_ns = atof(argv[1]) * 1e9;
    /* the frame XdpProgramBenchmark runs: Ethernet, IPv4 10.0.0.1 -> 10.0.0.2, UDP 12345 -> 53 */
    static uint8_t frame[FRAME] __attribute__((aligned(64)));
    frame[12] = 0x08;
    frame[14] = 0x45;
    frame[23] = 17;
    frame[26] = 10; frame[29] = 1;
    frame[30] = 10; frame[33] = 2;
    frame[34] = 0x30; frame[35] = 0x39;
    frame[36] = 0x00; frame[37] = 0x35;
    uint8_t key[16] = { 0 };
    memcpy(key, frame + 26, 12);
    key[12] = 17;
    flow_insert(key);
    for (int i = 1; i < FLOWS; i++) {
        uint8_t other[16];
        memcpy(other, key, 16);
        other[0] = (uint8_t)i;
        other[1] = (uint8_t)(i >> 8);
        flow_insert(other);
    }
    /* the csum frame: bytes i * 7 + 1, as XdpProgramBenchmark fills it */
    static uint8_t big[CSUM_LEN] __attribute__((aligned(64)));
    for (int i = 0; i < CSUM_LEN; i++)
        big[i] = (uint8_t)(i * 7 + 1);
    uint64_t sum = 0;
    for (int i = 0; i < CSUM_LEN; i += 4)
        sum += (uint64_t)big[i] | (uint64_t)big[i + 1] << 8 | (uint64_t)big[i + 2] << 16 | (uint64_t)big[i + 3] << 24;
    for (int r = 0; r < 2; r++)
        sum = (sum & 0xffffffffu) + (sum >> 32);
    for (int r = 0; r < 2; r++)
        sum = (sum & 0xffff) + (sum >> 16);
    uint32_t csum_n = build_csum();
    int rc = 0;
    rc |= bench("parse", parse_prog, LEN(parse_prog), frame, FRAME, 1);
    rc |= bench("csum", csum_prog, csum_n, big, CSUM_LEN, sum & 3);
    rc |= bench("flow", flow_prog, LEN(flow_prog), frame, FRAME, 1);
    return rc;
}
