package org.modnet.ebpf.api;

/**
 * A program type: what its context is, which of its fields a program may read (and how a load of one
 * is rewritten for the runtime), and which helpers it may call.
 */
public enum ProgType {
    /**
     * {@code BPF_PROG_TYPE_XDP}: the context is {@code struct xdp_md} — six u32 fields: data (0),
     * data_end (4), data_meta (8), ingress_ifindex (12), rx_queue_index (16), egress_ifindex (20).
     * The runtime's context region holds data, data_end and data_meta as 64-bit pointers at 0, 8 and 16
     * and the three indexes as u32 at 24, 28 and 32: the verifier rewrites each load accordingly.
     */
    XDP(24),
    /**
     * {@code BPF_PROG_TYPE_SCHED_CLS}: a tc classifier ({@code SEC("tc")}, {@code SEC("classifier")});
     * the context is {@code struct __sk_buff}. Programs read its u32 fields up to {@code tc_classid}
     * (len 0, pkt_type 4, mark 8, queue_mapping 12, protocol 16, priority 32, ingress_ifindex 36,
     * ifindex 40, tc_index 44, cb[5] 48, hash 68, tc_classid 72) and data (76) and data_end (80), which
     * become pointers; they may write mark, priority, tc_index, cb[] and tc_classid. The runtime's context region holds data and data_end as 64-bit pointers at 0
     * and 8 and the u32 fields at 16 + their offset.
     */
    SCHED_CLS(192),
    /**
     * {@code BPF_PROG_TYPE_SOCKET_FILTER} ({@code SEC("socket")}), run by {@code sk_filter} on what a
     * socket receives, from its transport header on: the context is {@code struct __sk_buff} as for
     * {@link #SCHED_CLS}, but {@code sk_filter_is_valid_access} refuses tc_classid, data, data_meta,
     * data_end and the socket fields past them, and lets programs write only cb[0..4]. The legacy
     * {@code BPF_LD|BPF_ABS} and {@code BPF_LD|BPF_IND} loads read the packet (r6 the context). The
     * return value is how many bytes to keep: 0 drops, less than the length truncates. Same runtime
     * context layout as tc's. @since 2.3
     */
    SOCKET_FILTER(192),
    /**
     * A program whose r1 points to plain memory of r2 bytes, as the conformance suite runs them; its
     * accesses are checked at run time only (the verifier checks registers, stack and flow).
     */
    RAW(0);

    private final int ctxSize;

    ProgType(int ctxSize) {
        this.ctxSize = ctxSize;
    }

    /** The size of the context structure as programs see it. */
    public int ctxSize() {
        return ctxSize;
    }

    /** The runtime context region's size (XDP's wider pointers). */
    public static final int XDP_RUNTIME_CTX = 40;

    /** {@link #SCHED_CLS}'s runtime context region: two pointers and the u32 fields before data. */
    public static final int SKB_RUNTIME_CTX = 96;

    /** The program type a section name gives ({@code libbpf}'s section table): tc's sections, socket, else XDP. */
    public static ProgType ofSection(String section) {
        if (section != null && (section.equals("socket") || section.startsWith("socket/"))) {
            return SOCKET_FILTER;
        }
        return section != null && (section.equals("tc") || section.startsWith("tc/") || section.equals("classifier")
                || section.startsWith("classifier/") || section.startsWith("tcx/")) ? SCHED_CLS : XDP;
    }
}
