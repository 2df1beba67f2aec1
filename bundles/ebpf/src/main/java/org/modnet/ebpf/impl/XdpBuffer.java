package org.modnet.ebpf.impl;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.Helpers;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.XdpContext;

/**
 * An XDP program's view of one frame ({@code struct xdp_buff}): the buffer with its headroom, where the
 * frame's data starts and ends (moved by {@code bpf_xdp_adjust_head/tail/meta}), and, after the run,
 * where a redirect goes. One per CPU, reused for every frame: {@link #run} points the program's
 * context and packet regions at the frame and returns the action.
 */
public final class XdpBuffer implements XdpContext {

    private static final int ETH_HLEN = 14;

    private final Memory memory;
    /**
     * The context the program reads, kept in words of a Java array its region views: setting it for
     * each frame is five array stores, not six memory-segment accesses (fewer for HotSpot to inline
     * into the program's caller, which leaves room to inline the program's own map and memory calls).
     */
    private final long[] ctxWords = new long[ProgType.XDP_RUNTIME_CTX / 8];
    private final MemorySegment ctx = MemorySegment.ofArray(ctxWords);
    private static final boolean BIG_ENDIAN_HOST = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;
    private MemorySegment buffer;
    /** The packet region's base: what the context's pointer words hold beyond the frame's offsets. */
    private static final long PACKET_BASE = Memory.base(LoadedProgram.PACKET_REGION);
    /** The context's address, the program's r1. */
    private static final long CTX_BASE = Memory.base(LoadedProgram.CTX_REGION);
    /**
     * What a run may have left that the next must not see: {@link #REDIRECTED} (a redirect helper set
     * the targets) and {@link #RX_META} (the driver gave the frame's receive metadata). A run resets only
     * what this says changed, not every field per frame.
     */
    private int dirty;
    private static final int REDIRECTED = 1;
    private static final int RX_META = 2;
    /**
     * The receive metadata described the frame of the last run: the next run, or the next metadata the driver
     * gives, clears it. So the per-frame run tests {@link #dirty} once, before the program, not again after it.
     */
    private static final int RX_META_RUN = 4;
    /** The frame's buffer's size, read once per buffer: the frame's bounds are checked against it per frame. */
    private long bufferSize;
    /**
     * What the per-frame run calls, set when the buffer or the program changes ({@link #bind}): the JIT's plain
     * code of {@link #boundProgram} where the memory's regions allow it, else null; and its context array,
     * packet displacement and stack, which only {@link #bind} changes (only this buffer sets the memory's
     * context and packet regions).
     */
    private LoadedProgram boundProgram;
    /**
     * The buffer bound with {@link #program} (the one {@link #run(MemorySegment, int, int, int, int)} runs), else
     * null: that run compares one reference per frame, not the buffer's and the program's.
     */
    private MemorySegment ownBuffer;
    /** {@link LoadedProgram#wholeXdpContext} of {@link #boundProgram}: whether a run sets data_meta and the queue's words. */
    private boolean wholeContext = true;
    private Jit.Code plain;
    private long[] plainWords;
    private long plainDisplacement;
    private byte[] plainStack;
    /** Where XDP_REDIRECT sends the frame: an ifindex, or -1 ({@code redirectCpu} for a cpumap). */
    private int redirectIfindex = -1;
    private int redirectCpu = -1;
    /** The program of the devmap entry the frame was redirected through (its id), 0 for none. */
    private int redirectProgram;
    /** Where XDP_REDIRECT through an xskmap sends the frame: the AF_XDP socket's fd, or -1. */
    private int redirectXsk = -1;
    private Object device;
    /** The next frame's receive metadata for the {@link Kfuncs} ({@code bpf_xdp_metadata_rx_*}); -1 / false: none given. */
    private long rxTimestamp = -1;
    private boolean rxHashGiven;
    private int rxHash;
    private int rxHashType;
    private boolean rxVlanGiven;
    private int rxVlanProto;
    private int rxVlanTci;

    /** The program {@link #run(MemorySegment, int, int, int, int)} runs: the one whose memory this is. */
    private final LoadedProgram program;

    /** A buffer over {@code memory}, for runs that name their program. */
    public XdpBuffer(Memory memory) {
        this(null, memory);
    }

    /** A buffer over {@code program}'s memory for a CPU ({@link LoadedProgram#xdpContext}). */
    XdpBuffer(LoadedProgram program, Memory memory) {
        this.program = program;
        this.memory = memory;
        memory.set(LoadedProgram.CTX_REGION, ctx, false);
        memory.attach(this);
    }

    /**
     * The runtime's object for the frame's receiving device, for helpers the runtime adds (such as
     * {@code bpf_fib_lookup}, which needs the device's namespace).
     */
    @Override
    public void device(Object device) {
        this.device = device;
    }

    Object device() {
        return device;
    }

    @Override
    public int run(MemorySegment buffer, int data, int len, int ifindex, int rxQueue) {
        if (ownBuffer != buffer) {
            bind(program, buffer);
        }
        return runBound(program, data, len, ifindex, rxQueue, 0);
    }

    @Override
    public int run(MemorySegment buffer, int data, int len, int ifindex, int rxQueue, int egressIfindex) {
        if (ownBuffer != buffer) {
            bind(program, buffer);
        }
        return runBound(program, data, len, ifindex, rxQueue, egressIfindex);
    }

    /** What {@link #device(Object)} set on the buffer behind a program's memory; a fault outside XDP. */
    public static Object device(Memory m) {
        return of(m).device;
    }

    /** The buffer behind a program's memory, for the XDP helpers. */
    static XdpBuffer of(Memory m) {
        if (!(m.attachment() instanceof XdpBuffer x)) {
            throw new BpfFault("an XDP helper was called outside XDP");
        }
        return x;
    }

    /**
     * Runs the program on the frame at [{@code data}, {@code data + len}) of {@code buffer} (the bytes
     * before {@code data} are headroom {@code bpf_xdp_adjust_head} may grow into). Returns the action;
     * a program that faults gives XDP_ABORTED, as the kernel's exception path would, and an action
     * outside 0..4 is XDP_ABORTED too, and so is a frame that does not lie within its buffer.
     */
    public int run(LoadedProgram p, MemorySegment buffer, int data, int len, int ifindex, int rxQueue) {
        return run(p, buffer, data, len, ifindex, rxQueue, 0);
    }

    /**
     * {@link #run} for a devmap entry's program: the frame was received on {@code ifindex} and leaves
     * through {@code egressIfindex}, which the program reads as {@code ctx->egress_ifindex}.
     */
    public int run(LoadedProgram p, MemorySegment buffer, int data, int len, int ifindex, int rxQueue, int egressIfindex) {
        if (this.buffer != buffer || boundProgram != p) {
            bind(p, buffer);
        }
        return runBound(p, data, len, ifindex, rxQueue, egressIfindex);
    }

    /** {@link #run} once {@link #bind} has bound {@code p} and the frame's buffer. */
    private int runBound(LoadedProgram p, int data, int len, int ifindex, int rxQueue, int egressIfindex) {
        if ((data | len) < 0 || (long) data + len > bufferSize) {
            return XDP_ABORTED; // the JIT's proven packet accesses are plain loads: data_end must lie in the buffer
        }
        // per frame the context's words (where the frame lies; data_meta and the queue's where the program may read
        // them); what a run left (redirect targets, the last frame's receive metadata) cleared only after a run that
        // set it, one test for both
        long[] words = ctxWords;
        long start = PACKET_BASE + data;
        long end = start + len;
        words[0] = le(start); // data and data_end always: the driver reads them after the run (data(), length())
        words[1] = le(end);
        if (wholeContext) {
            words[2] = le(start);
            // the queue's words stored every frame: two stores to the line just written are fewer instructions than
            // loading and comparing what they held
            words[3] = le(ifindex & 0xffffffffL | (long) rxQueue << 32);
            words[4] = le(egressIfindex & 0xffffffffL);
        }
        if (dirty != 0) {
            beforeRun();
        }
        long action;
        try {
            Jit.Code c = plain;
            if (c != null) {
                // the JIT's plain variant called directly, with what it reads from the memory bound with the buffer and
                // the frame's start and end (which its loads of ctx->data and data_end are, where nothing moves them);
                // memory.tailCalled is false here: a tail call's caller clears it, a fault's handler below
                action = c.runPlain(memory, plainWords, plainDisplacement, plainStack, start, end);
            } else {
                action = p.run(memory, CTX_BASE, 0);
            }
        } catch (BpfFault f) {
            memory.tailCalled = false; // a fault between a tail call and its caller's read of the result left it set
            action = XDP_ABORTED;
        } catch (RuntimeException | Error e) {
            memory.tailCalled = false; // not the next run's to see
            throw e;
        }
        // an unknown action is XDP_ABORTED (the kernel's bpf_warn_invalid_xdp_action): one unsigned compare
        return Long.compareUnsigned(action, XDP_REDIRECT) > 0 ? XDP_ABORTED : (int) action;
    }

    /** Points the memory's packet region at {@code buffer} and binds what the per-frame run calls for {@code p}. */
    private void bind(LoadedProgram p, MemorySegment buffer) {
        if (this.buffer != buffer) {
            memory.set(LoadedProgram.PACKET_REGION, buffer, true);
            this.buffer = buffer;
            bufferSize = buffer.byteSize();
        }
        boundProgram = p;
        ownBuffer = p == program ? buffer : null;
        wholeContext = p.wholeXdpContext;
        Jit.Code c = p.plainCode;
        if (c != null && memory.plainRegions()) {
            plain = c;
            plainWords = memory.plainContext();
            plainDisplacement = memory.plainPacketDisplacement();
            plainStack = memory.stackBytes();
        } else {
            plain = null;
            plainWords = null;
            plainStack = null;
        }
        if (memory.tailCalled) {
            memory.tailCalled = false;
        }
    }

    /** What the last run left: its redirect targets, and the receive metadata of its frame unless given for this one. */
    private void beforeRun() {
        int d = dirty;
        if ((d & REDIRECTED) != 0) {
            clearRedirect();
        }
        if ((d & RX_META_RUN) != 0) {
            clearRxMeta(); // the metadata described the last frame only
        } else if ((d & RX_META) != 0) {
            dirty = dirty & ~RX_META | RX_META_RUN; // given for this frame: cleared before the next
        }
    }

    /**
     * {@code BPF_PROG_TEST_RUN} with {@code repeat}: the frame's context prepared once and the program
     * run {@code repeat} times on it, as the kernel's {@code bpf_test_run} does (no context written per
     * run; what a run moves with {@code adjust_head} the next one sees, as in the kernel). Returns the
     * last run's action, as {@link #run}; {@code repeat} below 1 is one run.
     */
    public int testRun(LoadedProgram p, MemorySegment buffer, int data, int len, int ifindex, int rxQueue, long repeat) {
        int action = run(p, buffer, data, len, ifindex, rxQueue, 0);
        if ((data | len) < 0 || (long) data + len > bufferSize) {
            return XDP_ABORTED; // a frame outside its buffer runs no program (run's check), however many times
        }
        long ctx = CTX_BASE;
        Jit.Code c = plain;
        if (c != null && boundProgram == p) {
            long start = PACKET_BASE + data; // what the context's data and data_end hold: no run moves them where the code reads these
            long end = start + len;
            // the JIT's plain variant with its context array, packet displacement and stack in registers for
            // the whole test run (no run changes them: the helpers move the context's words, not its regions),
            // as DPDK's driver holds its function and frame
            long[] words = plainWords;
            long displacement = plainDisplacement;
            byte[] stack = plainStack;
            for (long r = 1; r < repeat; r++) {
                java.lang.invoke.VarHandle.acquireFence(); // each run reads the frame anew (below)
                long a;
                try {
                    a = c.runPlain(memory, words, displacement, stack, start, end);
                } catch (BpfFault f) {
                    memory.tailCalled = false;
                    a = XDP_ABORTED;
                }
                action = Long.compareUnsigned(a, XDP_REDIRECT) > 0 ? XDP_ABORTED : (int) a;
            }
            return action;
        }
        for (long r = 1; r < repeat; r++) {
            // each run reads the frame anew, as the kernel's does: no instruction on x86, but C2 may not hoist
            // the program's loads of the unchanging frame out of this loop and run it once
            java.lang.invoke.VarHandle.acquireFence();
            long a;
            try {
                a = p.run(memory, ctx, 0);
            } catch (BpfFault f) {
                a = XDP_ABORTED;
            }
            action = a < 0 || a > XDP_REDIRECT ? XDP_ABORTED : (int) a;
        }
        return action;
    }

    @Override
    public int testRun(MemorySegment buffer, int data, int len, int ifindex, int rxQueue, long repeat) {
        return testRun(program, buffer, data, len, ifindex, rxQueue, repeat);
    }

    private void clearRedirect() {
        redirectIfindex = -1;
        redirectCpu = -1;
        redirectProgram = 0;
        redirectXsk = -1;
        dirty &= ~REDIRECTED;
    }

    private void clearRxMeta() {
        rxTimestamp = -1;
        rxHashGiven = false;
        rxVlanGiven = false;
        dirty &= ~(RX_META | RX_META_RUN);
    }

    /** Before the driver gives the next frame's receive metadata: the last frame's is gone, all of it. */
    private void nextRxMeta() {
        if ((dirty & RX_META_RUN) != 0) {
            clearRxMeta();
        }
        dirty |= RX_META;
    }

    /** The context's pointer words after the helpers moved data, data_end or data_meta. */
    private void publish(int data, int dataEnd, int meta) {
        ctxWords[0] = le(PACKET_BASE + data);
        ctxWords[1] = le(PACKET_BASE + dataEnd);
        ctxWords[2] = le(PACKET_BASE + meta);
    }

    /** A word as the program's little-endian loads read it. */
    private static long le(long v) {
        return BIG_ENDIAN_HOST ? Long.reverseBytes(v) : v;
    }

    /** Where the frame starts now (after {@code adjust_head}). */
    @Override
    public int data() {
        return (int) (le(ctxWords[0]) - PACKET_BASE);
    }

    public int dataEnd() {
        return (int) (le(ctxWords[1]) - PACKET_BASE);
    }

    private int meta() {
        return (int) (le(ctxWords[2]) - PACKET_BASE);
    }

    @Override
    public int length() {
        return dataEnd() - data();
    }

    @Override
    public int redirectIfindex() {
        return redirectIfindex;
    }

    @Override
    public int redirectCpu() {
        return redirectCpu;
    }

    /** The id of the program of the devmap or cpumap entry the frame was redirected through, 0 for none. */
    @Override
    public int redirectProgram() {
        return redirectProgram;
    }

    @Override
    public void rxTimestamp(long ns) {
        nextRxMeta();
        rxTimestamp = ns < 0 ? -1 : ns;
    }

    @Override
    public void rxHash(int hash, int rssType) {
        nextRxMeta();
        rxHash = hash;
        rxHashType = rssType;
        rxHashGiven = true;
    }

    @Override
    public void rxVlanTag(int proto, int tci) {
        nextRxMeta();
        rxVlanProto = proto;
        rxVlanTci = tci;
        rxVlanGiven = true;
    }

    // --- the XDP kfuncs: 0 and the value written where the program said (the verifier proved it writable), or -ENODATA ---

    /** {@code bpf_xdp_metadata_rx_timestamp(ctx, u64 *timestamp)}. */
    long rxTimestamp(Memory m, long at) {
        if (rxTimestamp < 0) {
            return Kfuncs.ENODATA;
        }
        m.store64(at, rxTimestamp);
        return 0;
    }

    /** {@code bpf_xdp_metadata_rx_hash(ctx, u32 *hash, enum xdp_rss_hash_type *rss_type)}. */
    long rxHash(Memory m, long hashAt, long typeAt) {
        if (!rxHashGiven) {
            return Kfuncs.ENODATA;
        }
        m.store32(hashAt, rxHash);
        m.store32(typeAt, rxHashType);
        return 0;
    }

    /** {@code bpf_xdp_metadata_rx_vlan_tag(ctx, __be16 *vlan_proto, u16 *vlan_tci)}: the protocol in network order, as the kernel gives it. */
    long rxVlanTag(Memory m, long protoAt, long tciAt) {
        if (!rxVlanGiven) {
            return Kfuncs.ENODATA;
        }
        m.store16(protoAt, Short.reverseBytes((short) rxVlanProto));
        m.store16(tciAt, rxVlanTci);
        return 0;
    }

    @Override
    public int redirectXsk() {
        return redirectXsk;
    }

    // --- the XDP helpers ---

    /** {@code bpf_xdp_adjust_head}: moves the start; the frame keeps at least an Ethernet header. */
    long adjustHead(long delta) {
        int dataEnd = dataEnd();
        long start = data() + delta;
        if (start < 0 || start > dataEnd - ETH_HLEN) {
            return -22;
        }
        publish((int) start, dataEnd, (int) start);
        return 0;
    }

    /** {@code bpf_xdp_adjust_tail}: moves the end, within the buffer, keeping an Ethernet header. */
    long adjustTail(long delta) {
        int data = data();
        long end = dataEnd() + delta;
        if (end < data + ETH_HLEN || end > buffer.byteSize()) {
            return -22;
        }
        publish(data, (int) end, meta());
        return 0;
    }

    /** {@code bpf_xdp_adjust_meta}: metadata grows into the headroom before the data (a multiple of 4, at most 32). */
    long adjustMeta(long delta) {
        int data = data();
        long m = meta() + delta;
        if (delta % 4 != 0 || m < 0 || m > data || data - m > 32) {
            return -22;
        }
        publish(data, dataEnd(), (int) m);
        return 0;
    }

    /** The helpers XDP adds to the standard ones: adjust head/tail/meta, redirect, redirect_map. */
    public static Helpers helpers(List<BpfMapBase> maps) {
        Helpers h = new Helpers();
        Kfuncs.registerXdp(h);
        h.register(HelperProtos.XDP_ADJUST_HEAD, "bpf_xdp_adjust_head", (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).adjustHead((int) r2));
        h.register(HelperProtos.XDP_ADJUST_TAIL, "bpf_xdp_adjust_tail", (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).adjustTail((int) r2));
        h.register(HelperProtos.XDP_ADJUST_META, "bpf_xdp_adjust_meta", (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).adjustMeta((int) r2));
        h.register(HelperProtos.REDIRECT, "bpf_redirect", (OwnHelper) (r1, r2, r3, r4, r5, m) -> {
            XdpBuffer x = of(m);
            x.dirty |= REDIRECTED;
            x.redirectIfindex = (int) r1; // the last redirect a program asks for is the one it gets
            x.redirectCpu = -1;
            x.redirectProgram = 0;
            x.redirectXsk = -1;
            return XDP_REDIRECT;
        });
        h.register(HelperProtos.REDIRECT_MAP, "bpf_redirect_map", (OwnHelper) (r1, r2, r3, r4, r5, m) -> {
            XdpBuffer x = of(m);
            x.dirty |= REDIRECTED;
            BpfMapBase map = LoadedProgram.map(maps, r1);
            byte[] key = { (byte) r2, (byte) (r2 >>> 8), (byte) (r2 >>> 16), (byte) (r2 >>> 24) };
            byte[] value = map.keySize() == 4 ? map.lookup(key) : null;
            if (value == null) {
                return r3 & 0x3; // the lower bits of flags: the action when the key is not there
            }
            // a devmap's value is the target's ifindex, a cpumap's the queue size (struct bpf_cpumap_val), an xskmap's a socket's fd: 0 is no entry
            int target = (value[0] & 0xff) | (value[1] & 0xff) << 8 | (value[2] & 0xff) << 16 | (value[3] & 0xff) << 24;
            if (target == 0) {
                return r3 & 0x3;
            }
            if (map.type() == Verifier.MAP_XSKMAP) {
                // an xskmap's value is the AF_XDP socket's fd: the runtime finds the socket, bound to this device and queue
                x.redirectXsk = target;
                x.redirectIfindex = -1;
                x.redirectCpu = -1;
                x.redirectProgram = 0;
                return XDP_REDIRECT;
            }
            x.redirectXsk = -1;
            if (map.type() == Verifier.MAP_CPUMAP) {
                x.redirectCpu = (int) r2;
            } else {
                x.redirectCpu = -1;
                x.redirectIfindex = target;
            }
            x.redirectProgram = map.entryProgram(value);
            return XDP_REDIRECT;
        });
        return h;
    }
}
