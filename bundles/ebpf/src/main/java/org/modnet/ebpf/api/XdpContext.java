package org.modnet.ebpf.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One CPU's {@code struct xdp_buff} for one program: made once ({@link BpfProg#xdpContext(int)}) and
 * reused for every frame, so a run allocates nothing. {@link #run} points the program's context and
 * packet at the frame and returns the action; then {@link #data()} and {@link #length()} say where the
 * program moved the frame, and the redirect getters where XDP_REDIRECT sends it. Not thread-safe: one
 * per CPU (or per thread).
 */
@ProviderType
public interface XdpContext {
    int XDP_ABORTED = 0;
    int XDP_DROP = 1;
    int XDP_PASS = 2;
    int XDP_TX = 3;
    int XDP_REDIRECT = 4;

    /** The runtime's object for the receiving device, for helpers it adds ({@link BpfMemory#device()}). */
    void device(Object device);

    /**
     * Runs the program on the frame at [{@code data}, {@code data + len}) of {@code buffer} (the bytes
     * before {@code data} are headroom {@code bpf_xdp_adjust_head} may grow into). A program that
     * faults, or returns something other than an action, gives XDP_ABORTED.
     */
    int run(MemorySegment buffer, int data, int len, int ifindex, int rxQueue);

    /** {@link #run} for a devmap entry's program: the frame leaves through {@code egressIfindex} ({@code ctx->egress_ifindex}). */
    int run(MemorySegment buffer, int data, int len, int ifindex, int rxQueue, int egressIfindex);

    /**
     * {@code BPF_PROG_TEST_RUN} with {@code repeat} ({@code bpftool prog run ... repeat N}): the frame's
     * context prepared once, then the program run {@code repeat} times on it with nothing written between
     * runs, as the kernel's {@code bpf_test_run} does; what one run moves (adjust_head) the next sees
     * (this default, for a context that cannot, runs it per frame). Returns the last run's action, as {@link #run} gives it. Since 2.8.0.
     */
    default int testRun(MemorySegment buffer, int data, int len, int ifindex, int rxQueue, long repeat) {
        int action = run(buffer, data, len, ifindex, rxQueue);
        for (long r = 1; r < repeat; r++) {
            action = run(buffer, data, len, ifindex, rxQueue);
        }
        return action;
    }

    /**
     * The next frame's receive timestamp in ns, as the device took it: what {@code
     * bpf_xdp_metadata_rx_timestamp} gives the program during the next {@link #run} (after which it is
     * forgotten; without it the kfunc returns -ENODATA). @since 2.6
     */
    default void rxTimestamp(long ns) {
    }

    /** The next frame's RSS hash and its {@code enum xdp_rss_hash_type}, for {@code bpf_xdp_metadata_rx_hash}. @since 2.6 */
    default void rxHash(int hash, int rssType) {
    }

    /** The next frame's stripped VLAN tag (protocol such as 0x8100, TCI), for {@code bpf_xdp_metadata_rx_vlan_tag}. @since 2.6 */
    default void rxVlanTag(int proto, int tci) {
    }

    /** Where the frame starts after the run. */
    int data();

    /** The frame's length after the run. */
    int length();

    /** XDP_REDIRECT's target ifindex, or -1 (for a cpumap, {@link #redirectCpu()}). */
    int redirectIfindex();

    /** XDP_REDIRECT's target CPU through a cpumap, or -1. */
    int redirectCpu();

    /** The id of the program the devmap or cpumap entry names, 0 for none. */
    int redirectProgram();

    /**
     * XDP_REDIRECT's target through an xskmap ({@code BPF_MAP_TYPE_XSKMAP}): the fd of the AF_XDP
     * socket the entry names, which the runtime resolves; -1 for another target. Since 2.6.0.
     */
    default int redirectXsk() {
        return -1;
    }
}
