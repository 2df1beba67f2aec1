package org.modnet.ebpf.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One CPU's (or thread's) {@code struct __sk_buff} for a tc program ({@link ProgType#SCHED_CLS}): made
 * once ({@link BpfProg#tcContext(int)}) and reused for every frame, so a run allocates nothing. The
 * runtime sets the fields and points the packet at the frame's linear bytes, from the Ethernet header
 * on, then {@link #run}s it. {@code bpf_skb_load_bytes}, {@code store_bytes} and the checksum
 * helpers work on those bytes; {@code bpf_redirect} is recorded here; helpers that need the skb itself
 * ({@code clone_redirect}, {@code change_head}) are the runtime's, reaching it through
 * {@link BpfMemory#device()}, and call {@link #packet} again when they move it. Not thread-safe.
 */
@ProviderType
public interface TcContext {
    int TC_ACT_OK = 0;
    int TC_ACT_SHOT = 2;
    int TC_ACT_REDIRECT = 7;
    /** {@code BPF_F_INGRESS}: redirect into the target's receive path instead of out of it. */
    int BPF_F_INGRESS = 1;

    /** The runtime's object for its own helpers ({@link BpfMemory#device()}). */
    void device(Object device);

    /** The u32 fields the program reads, for the next run. */
    void fields(int len, int pktType, int mark, int queueMapping, int protocol, int priority, int ingressIfindex, int ifindex,
            int hash);

    /**
     * Whether the frame's transport checksum is left for the device ({@code CHECKSUM_PARTIAL}: the
     * field holds the pseudo-header's sum): {@code bpf_l4_csum_replace} then updates only what the
     * pseudo-header covers, as {@code inet_proto_csum_replace} does. For the next run; false by default.
     */
    void csumPartial(boolean partial);

    /** The frame's bytes: {@code [data, dataEnd)} of {@code buffer}, writable or not; also mid-run, after a helper moved them. */
    void packet(MemorySegment buffer, int data, int dataEnd, boolean writable);

    /** Runs the program: its return value (a TC_ACT_*); a program that faults gives {@link #TC_ACT_SHOT}. */
    int run();

    /** {@code skb->mark} after the run: the program may have written it. */
    int mark();

    /** {@code skb->priority} after the run. */
    int priority();

    /**
     * {@code qdisc_skb_cb(skb)->tc_classid}, which the program reads and may write at offset 72 of
     * {@code __sk_buff}: set before the run (cls_bpf gives it the filter's class id; {@link #fields}
     * leaves it 0), read after it.
     * @since 2.2
     */
    void tcClassid(int classid);

    /** {@code tc_classid} after the run: a direct-action program's choice of class. @since 2.2 */
    int tcClassid();

    /** Where the packet starts and ends after the run (helpers may have moved it). */
    int data();

    int dataEnd();

    /** {@code bpf_redirect}'s target of the last run, or -1. */
    int redirectIfindex();

    /** {@code bpf_redirect}'s flags ({@link #BPF_F_INGRESS}). */
    int redirectFlags();
}
