package org.modnet.ebpf.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One CPU's (or thread's) {@code struct __sk_buff} for a socket filter ({@link ProgType#SOCKET_FILTER}),
 * as {@code sk_filter} runs it on what a socket receives: made once ({@link BpfProg#skFilterContext(int)})
 * and reused, so a run allocates nothing. The caller sets the fields and the packet — from the transport
 * header on, as the kernel's {@code skb->data} is when a UDP or TCP socket's filter runs — then
 * {@link #filter}s it. {@code BPF_LD|BPF_ABS} loads read from there, network-order; negative offsets
 * reach the network header ({@link #SKF_NET_OFF}) and the link-layer header ({@link #SKF_LL_OFF}).
 * Not thread-safe.
 * @since 2.3
 */
@ProviderType
public interface SkFilterContext {
    /** {@code SKF_NET_OFF}: an absolute load's offset from the network header, plus this. */
    int SKF_NET_OFF = -0x100000;
    /** {@code SKF_LL_OFF}: an absolute load's offset from the link-layer header, plus this. */
    int SKF_LL_OFF = -0x200000;

    /** The u32 fields the program reads (cb[] starts zeroed, as {@code bpf_prog_run_save_cb} gives it). */
    void fields(int len, int pktType, int mark, int queueMapping, int protocol, int vlanPresent, int vlanTci, int vlanProto,
            int priority, int ingressIfindex, int ifindex, int hash);

    /**
     * The skb's bytes in {@code buffer}: where its link-layer header starts (-1 when it has none), where
     * its network header starts, and {@code [data, dataEnd)}, the packet the program sees.
     */
    void packet(MemorySegment buffer, int macHeader, int networkHeader, int data, int dataEnd);

    /** What {@code bpf_get_socket_cookie} answers for the next runs: the socket's cookie. */
    void socketCookie(long cookie);

    /** Runs the program: how many bytes to keep (0 drops), as an unsigned 32-bit value; a fault gives 0. */
    long filter();
}
