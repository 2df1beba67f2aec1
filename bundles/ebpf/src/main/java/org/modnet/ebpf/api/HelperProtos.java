package org.modnet.ebpf.api;

import static org.modnet.ebpf.api.HelperProto.Arg.ANYTHING;
import static org.modnet.ebpf.api.HelperProto.Arg.CONST_ALLOC_SIZE;
import static org.modnet.ebpf.api.HelperProto.Arg.CONST_MAP_PTR;
import static org.modnet.ebpf.api.HelperProto.Arg.CONST_SIZE;
import static org.modnet.ebpf.api.HelperProto.Arg.CONST_SIZE_OR_ZERO;
import static org.modnet.ebpf.api.HelperProto.Arg.PTR_TO_ALLOC_MEM;
import static org.modnet.ebpf.api.HelperProto.Arg.PTR_TO_CTX;
import static org.modnet.ebpf.api.HelperProto.Arg.PTR_TO_MAP_KEY;
import static org.modnet.ebpf.api.HelperProto.Arg.PTR_TO_MAP_VALUE;
import static org.modnet.ebpf.api.HelperProto.Arg.PTR_TO_LONG;
import static org.modnet.ebpf.api.HelperProto.Arg.PTR_TO_MEM;
import static org.modnet.ebpf.api.HelperProto.Arg.PTR_TO_UNINIT_MAP_VALUE;
import static org.modnet.ebpf.api.HelperProto.Arg.PTR_TO_UNINIT_MEM;
import static org.modnet.ebpf.api.HelperProto.Ret.INTEGER;
import static org.modnet.ebpf.api.HelperProto.Ret.PTR_TO_ALLOC_MEM_OR_NULL;
import static org.modnet.ebpf.api.HelperProto.Ret.PTR_TO_MAP_VALUE_OR_NULL;
import static org.modnet.ebpf.api.HelperProto.Ret.VOID;

import java.util.List;

/** The helpers modnet offers, with Linux's numbers and prototypes ({@code include/uapi/linux/bpf.h}). */
public final class HelperProtos {
    public static final int MAP_LOOKUP_ELEM = 1;
    public static final int MAP_UPDATE_ELEM = 2;
    public static final int MAP_DELETE_ELEM = 3;
    public static final int KTIME_GET_NS = 5;
    public static final int TRACE_PRINTK = 6;
    public static final int GET_PRANDOM_U32 = 7;
    public static final int GET_SMP_PROCESSOR_ID = 8;
    public static final int SKB_STORE_BYTES = 9;
    public static final int L3_CSUM_REPLACE = 10;
    public static final int L4_CSUM_REPLACE = 11;
    public static final int TAIL_CALL = 12;
    public static final int CLONE_REDIRECT = 13;
    /** {@code bpf_get_hash_recalc}: tc's flow hash of the frame. @since 2.7 */
    public static final int GET_HASH_RECALC = 34;
    /** @since 2.4 */
    public static final int PERF_EVENT_OUTPUT = 25;
    public static final int SKB_LOAD_BYTES = 26;
    /** @since 2.3 */
    public static final int GET_SOCKET_COOKIE = 46;
    /** @since 2.3 */
    public static final int GET_SOCKET_UID = 47;
    public static final int SKB_CHANGE_HEAD = 43;
    public static final int REDIRECT = 23;
    public static final int CSUM_DIFF = 28;
    public static final int XDP_ADJUST_HEAD = 44;
    public static final int REDIRECT_MAP = 51;
    public static final int XDP_ADJUST_META = 54;
    public static final int XDP_ADJUST_TAIL = 65;
    public static final int FIB_LOOKUP = 69;
    /** @since 2.4 */
    public static final int MAP_PUSH_ELEM = 87;
    /** @since 2.4 */
    public static final int MAP_POP_ELEM = 88;
    /** @since 2.4 */
    public static final int MAP_PEEK_ELEM = 89;
    /** @since 2.5 */
    public static final int STRTOL = 105;
    /** @since 2.5 */
    public static final int STRTOUL = 106;
    public static final int RINGBUF_OUTPUT = 130;
    public static final int RINGBUF_RESERVE = 131;
    public static final int RINGBUF_SUBMIT = 132;
    public static final int RINGBUF_DISCARD = 133;
    public static final int RINGBUF_QUERY = 134;

    private HelperProtos() {
    }

    /** What an XDP program may call. */
    public static final List<HelperProto> XDP = List.of(
            new HelperProto(MAP_LOOKUP_ELEM, "bpf_map_lookup_elem", PTR_TO_MAP_VALUE_OR_NULL, CONST_MAP_PTR, PTR_TO_MAP_KEY),
            new HelperProto(MAP_UPDATE_ELEM, "bpf_map_update_elem", INTEGER, CONST_MAP_PTR, PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE, ANYTHING),
            new HelperProto(MAP_DELETE_ELEM, "bpf_map_delete_elem", INTEGER, CONST_MAP_PTR, PTR_TO_MAP_KEY),
            new HelperProto(MAP_PUSH_ELEM, "bpf_map_push_elem", INTEGER, CONST_MAP_PTR, PTR_TO_MAP_VALUE, ANYTHING),
            new HelperProto(MAP_POP_ELEM, "bpf_map_pop_elem", INTEGER, CONST_MAP_PTR, PTR_TO_UNINIT_MAP_VALUE),
            new HelperProto(MAP_PEEK_ELEM, "bpf_map_peek_elem", INTEGER, CONST_MAP_PTR, PTR_TO_UNINIT_MAP_VALUE),
            new HelperProto(KTIME_GET_NS, "bpf_ktime_get_ns", INTEGER),
            new HelperProto(TRACE_PRINTK, "bpf_trace_printk", INTEGER, PTR_TO_MEM, CONST_SIZE),
            new HelperProto(GET_PRANDOM_U32, "bpf_get_prandom_u32", INTEGER),
            new HelperProto(GET_SMP_PROCESSOR_ID, "bpf_get_smp_processor_id", INTEGER),
            // bpf_base_func_proto offers these to every program type loaded with CAP_BPF
            new HelperProto(STRTOL, "bpf_strtol", INTEGER, PTR_TO_MEM, CONST_SIZE, ANYTHING, PTR_TO_LONG),
            new HelperProto(STRTOUL, "bpf_strtoul", INTEGER, PTR_TO_MEM, CONST_SIZE, ANYTHING, PTR_TO_LONG),
            new HelperProto(TAIL_CALL, "bpf_tail_call", INTEGER, PTR_TO_CTX, CONST_MAP_PTR, ANYTHING),
            new HelperProto(REDIRECT, "bpf_redirect", INTEGER, ANYTHING, ANYTHING),
            new HelperProto(PERF_EVENT_OUTPUT, "bpf_perf_event_output", INTEGER, PTR_TO_CTX, CONST_MAP_PTR, ANYTHING, PTR_TO_MEM,
                    CONST_SIZE_OR_ZERO),
            new HelperProto(CSUM_DIFF, "bpf_csum_diff", INTEGER, PTR_TO_MEM, CONST_SIZE_OR_ZERO, PTR_TO_MEM, CONST_SIZE_OR_ZERO, ANYTHING),
            new HelperProto(XDP_ADJUST_HEAD, "bpf_xdp_adjust_head", INTEGER, PTR_TO_CTX, ANYTHING).changingPacket(),
            new HelperProto(REDIRECT_MAP, "bpf_redirect_map", INTEGER, CONST_MAP_PTR, ANYTHING, ANYTHING),
            new HelperProto(XDP_ADJUST_META, "bpf_xdp_adjust_meta", INTEGER, PTR_TO_CTX, ANYTHING).changingPacket(),
            new HelperProto(XDP_ADJUST_TAIL, "bpf_xdp_adjust_tail", INTEGER, PTR_TO_CTX, ANYTHING).changingPacket(),
            new HelperProto(FIB_LOOKUP, "bpf_fib_lookup", INTEGER, PTR_TO_CTX, PTR_TO_MEM, CONST_SIZE, ANYTHING),
            new HelperProto(RINGBUF_OUTPUT, "bpf_ringbuf_output", INTEGER, CONST_MAP_PTR, PTR_TO_MEM, CONST_SIZE_OR_ZERO, ANYTHING),
            new HelperProto(RINGBUF_RESERVE, "bpf_ringbuf_reserve", PTR_TO_ALLOC_MEM_OR_NULL, CONST_MAP_PTR, CONST_ALLOC_SIZE, ANYTHING),
            new HelperProto(RINGBUF_SUBMIT, "bpf_ringbuf_submit", VOID, PTR_TO_ALLOC_MEM, ANYTHING),
            new HelperProto(RINGBUF_DISCARD, "bpf_ringbuf_discard", VOID, PTR_TO_ALLOC_MEM, ANYTHING),
            new HelperProto(RINGBUF_QUERY, "bpf_ringbuf_query", INTEGER, CONST_MAP_PTR, ANYTHING));

    /**
     * What a socket filter ({@link ProgType#SOCKET_FILTER}) may call ({@code sk_filter_func_proto}): the
     * maps and the common helpers, {@code bpf_skb_load_bytes}, the socket's cookie and uid, and tail
     * calls. Nothing that writes the packet. @since 2.3
     */
    public static final List<HelperProto> SOCKET_FILTER = List.of(
            new HelperProto(MAP_LOOKUP_ELEM, "bpf_map_lookup_elem", PTR_TO_MAP_VALUE_OR_NULL, CONST_MAP_PTR, PTR_TO_MAP_KEY),
            new HelperProto(MAP_UPDATE_ELEM, "bpf_map_update_elem", INTEGER, CONST_MAP_PTR, PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE, ANYTHING),
            new HelperProto(MAP_DELETE_ELEM, "bpf_map_delete_elem", INTEGER, CONST_MAP_PTR, PTR_TO_MAP_KEY),
            new HelperProto(MAP_PUSH_ELEM, "bpf_map_push_elem", INTEGER, CONST_MAP_PTR, PTR_TO_MAP_VALUE, ANYTHING),
            new HelperProto(MAP_POP_ELEM, "bpf_map_pop_elem", INTEGER, CONST_MAP_PTR, PTR_TO_UNINIT_MAP_VALUE),
            new HelperProto(MAP_PEEK_ELEM, "bpf_map_peek_elem", INTEGER, CONST_MAP_PTR, PTR_TO_UNINIT_MAP_VALUE),
            new HelperProto(KTIME_GET_NS, "bpf_ktime_get_ns", INTEGER),
            new HelperProto(TRACE_PRINTK, "bpf_trace_printk", INTEGER, PTR_TO_MEM, CONST_SIZE),
            new HelperProto(GET_PRANDOM_U32, "bpf_get_prandom_u32", INTEGER),
            new HelperProto(GET_SMP_PROCESSOR_ID, "bpf_get_smp_processor_id", INTEGER),
            // bpf_base_func_proto offers these to every program type loaded with CAP_BPF
            new HelperProto(STRTOL, "bpf_strtol", INTEGER, PTR_TO_MEM, CONST_SIZE, ANYTHING, PTR_TO_LONG),
            new HelperProto(STRTOUL, "bpf_strtoul", INTEGER, PTR_TO_MEM, CONST_SIZE, ANYTHING, PTR_TO_LONG),
            new HelperProto(TAIL_CALL, "bpf_tail_call", INTEGER, PTR_TO_CTX, CONST_MAP_PTR, ANYTHING),
            new HelperProto(SKB_LOAD_BYTES, "bpf_skb_load_bytes", INTEGER, PTR_TO_CTX, ANYTHING, PTR_TO_UNINIT_MEM, CONST_SIZE),
            new HelperProto(GET_SOCKET_COOKIE, "bpf_get_socket_cookie", INTEGER, PTR_TO_CTX),
            new HelperProto(GET_SOCKET_UID, "bpf_get_socket_uid", INTEGER, PTR_TO_CTX),
            new HelperProto(RINGBUF_OUTPUT, "bpf_ringbuf_output", INTEGER, CONST_MAP_PTR, PTR_TO_MEM, CONST_SIZE_OR_ZERO, ANYTHING),
            new HelperProto(RINGBUF_RESERVE, "bpf_ringbuf_reserve", PTR_TO_ALLOC_MEM_OR_NULL, CONST_MAP_PTR, CONST_ALLOC_SIZE, ANYTHING),
            new HelperProto(RINGBUF_SUBMIT, "bpf_ringbuf_submit", VOID, PTR_TO_ALLOC_MEM, ANYTHING),
            new HelperProto(RINGBUF_DISCARD, "bpf_ringbuf_discard", VOID, PTR_TO_ALLOC_MEM, ANYTHING),
            new HelperProto(RINGBUF_QUERY, "bpf_ringbuf_query", INTEGER, CONST_MAP_PTR, ANYTHING));

    /**
     * What a tc program ({@link ProgType#SCHED_CLS}) may call: the maps and the common helpers, and
     * the skb's: load and store bytes, checksum replacement, redirect, clone-redirect, change head, the flow hash.
     * Those that may move or rewrite the packet invalidate the program's packet pointers.
     */
    public static final List<HelperProto> SCHED_CLS = List.of(
            new HelperProto(MAP_LOOKUP_ELEM, "bpf_map_lookup_elem", PTR_TO_MAP_VALUE_OR_NULL, CONST_MAP_PTR, PTR_TO_MAP_KEY),
            new HelperProto(MAP_UPDATE_ELEM, "bpf_map_update_elem", INTEGER, CONST_MAP_PTR, PTR_TO_MAP_KEY, PTR_TO_MAP_VALUE, ANYTHING),
            new HelperProto(MAP_DELETE_ELEM, "bpf_map_delete_elem", INTEGER, CONST_MAP_PTR, PTR_TO_MAP_KEY),
            new HelperProto(MAP_PUSH_ELEM, "bpf_map_push_elem", INTEGER, CONST_MAP_PTR, PTR_TO_MAP_VALUE, ANYTHING),
            new HelperProto(MAP_POP_ELEM, "bpf_map_pop_elem", INTEGER, CONST_MAP_PTR, PTR_TO_UNINIT_MAP_VALUE),
            new HelperProto(MAP_PEEK_ELEM, "bpf_map_peek_elem", INTEGER, CONST_MAP_PTR, PTR_TO_UNINIT_MAP_VALUE),
            new HelperProto(KTIME_GET_NS, "bpf_ktime_get_ns", INTEGER),
            new HelperProto(TRACE_PRINTK, "bpf_trace_printk", INTEGER, PTR_TO_MEM, CONST_SIZE),
            new HelperProto(GET_PRANDOM_U32, "bpf_get_prandom_u32", INTEGER),
            new HelperProto(GET_SMP_PROCESSOR_ID, "bpf_get_smp_processor_id", INTEGER),
            // bpf_base_func_proto offers these to every program type loaded with CAP_BPF
            new HelperProto(STRTOL, "bpf_strtol", INTEGER, PTR_TO_MEM, CONST_SIZE, ANYTHING, PTR_TO_LONG),
            new HelperProto(STRTOUL, "bpf_strtoul", INTEGER, PTR_TO_MEM, CONST_SIZE, ANYTHING, PTR_TO_LONG),
            new HelperProto(SKB_STORE_BYTES, "bpf_skb_store_bytes", INTEGER, PTR_TO_CTX, ANYTHING, PTR_TO_MEM, CONST_SIZE, ANYTHING)
                    .changingPacket(),
            new HelperProto(L3_CSUM_REPLACE, "bpf_l3_csum_replace", INTEGER, PTR_TO_CTX, ANYTHING, ANYTHING, ANYTHING, ANYTHING)
                    .changingPacket(),
            new HelperProto(L4_CSUM_REPLACE, "bpf_l4_csum_replace", INTEGER, PTR_TO_CTX, ANYTHING, ANYTHING, ANYTHING, ANYTHING)
                    .changingPacket(),
            new HelperProto(TAIL_CALL, "bpf_tail_call", INTEGER, PTR_TO_CTX, CONST_MAP_PTR, ANYTHING),
            new HelperProto(CLONE_REDIRECT, "bpf_clone_redirect", INTEGER, PTR_TO_CTX, ANYTHING, ANYTHING).changingPacket(),
            new HelperProto(REDIRECT, "bpf_redirect", INTEGER, ANYTHING, ANYTHING),
            new HelperProto(SKB_LOAD_BYTES, "bpf_skb_load_bytes", INTEGER, PTR_TO_CTX, ANYTHING, PTR_TO_UNINIT_MEM, CONST_SIZE),
            new HelperProto(GET_HASH_RECALC, "bpf_get_hash_recalc", INTEGER, PTR_TO_CTX),
            new HelperProto(CSUM_DIFF, "bpf_csum_diff", INTEGER, PTR_TO_MEM, CONST_SIZE_OR_ZERO, PTR_TO_MEM, CONST_SIZE_OR_ZERO, ANYTHING),
            new HelperProto(SKB_CHANGE_HEAD, "bpf_skb_change_head", INTEGER, PTR_TO_CTX, ANYTHING, ANYTHING).changingPacket());
}
