package org.modnet.ebpf.impl;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import org.modnet.api.skb.FlowDissector;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.Helpers;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.api.SkFilterContext;
import org.modnet.ebpf.api.TcContext;

/**
 * A tc program's view of one frame ({@code struct __sk_buff}): the fields it reads, the linear bytes
 * from the Ethernet header on, and, after the run, where {@code bpf_redirect} sends it. The byte
 * helpers ({@code bpf_skb_load_bytes}, {@code bpf_skb_store_bytes}, {@code bpf_l3_csum_replace},
 * {@code bpf_l4_csum_replace}) work on those bytes here ({@code net/core/filter.c}); offsets are
 * from the Ethernet header, as the kernel's are from {@code skb->data} at the tc hook. A socket filter
 * ({@link SkFilterContext}) sees the same structure with its packet from the transport header on.
 */
public final class SkbBuffer implements TcContext, SkFilterContext {
    private static final boolean BIG_ENDIAN_HOST = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN;
    /**
     * A checksum field as the program's registers hold packet words (little-endian loads, as on the
     * kernel's x86): one's complement sums do not care about the order as long as the field and the
     * {@code from}/{@code to} values the program passes are read alike.
     */
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** A u32 of the context as the program's little-endian loads read it (one layout: making one per store allocates). */
    private static final ValueLayout.OfInt CTX_U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The legacy packet loads' network order. */
    private static final ValueLayout.OfInt BE_U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort BE_U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** Two pointers, then every u32 of {@code __sk_buff} up to gso_size (176) at 16 + its offset. */
    private static final int RUNTIME_CTX = Math.max(ProgType.SKB_RUNTIME_CTX, 16 + 192);
    private static final int EFAULT = -14;
    private static final int EINVAL = -22;
    /** {@code BPF_F_RECOMPUTE_CSUM}, {@code BPF_F_INVALIDATE_HASH}: store_bytes' flags. */
    private static final long STORE_FLAGS = 0x3;
    /** {@code BPF_F_HDR_FIELD_MASK}: the size of the field a checksum helper replaces (0, 2 or 4). */
    private static final long HDR_FIELD_MASK = 0xf;
    private static final long F_PSEUDO_HDR = 0x10;
    private static final long F_MARK_MANGLED_0 = 0x20;
    private static final long F_MARK_ENFORCE = 0x40;

    private final LoadedProgram program;
    private final Memory memory;
    private final long[] ctxWords = new long[RUNTIME_CTX / 8];
    private final MemorySegment ctx = MemorySegment.ofArray(ctxWords);
    private MemorySegment buffer;
    private boolean writable;
    private boolean csumPartial;
    private int data;
    private int dataEnd;
    /** Where the link-layer header (-1: none) and the network header start, for SKF_LL_OFF and SKF_NET_OFF loads. */
    private int macHeader = -1;
    private int networkHeader = -1;
    private long socketCookie;
    private int redirectIfindex = -1;
    private int redirectFlags;
    private Object device;

    SkbBuffer(LoadedProgram program, Memory memory) {
        this.program = program;
        this.memory = memory;
        memory.set(LoadedProgram.CTX_REGION, ctx, true); // the verifier lets stores reach only the writable fields
        memory.attach(this);
    }

    @Override
    public void device(Object device) {
        this.device = device;
    }

    Object device() {
        return device;
    }

    @Override
    public void fields(int len, int pktType, int mark, int queueMapping, int protocol, int priority, int ingressIfindex, int ifindex,
            int hash) {
        java.util.Arrays.fill(ctxWords, 2, ctxWords.length, 0);
        field(0, len);
        field(4, pktType);
        field(8, mark);
        field(12, queueMapping);
        field(16, protocol);
        field(32, priority);
        field(36, ingressIfindex);
        field(40, ifindex);
        field(68, hash);
    }

    @Override
    public void fields(int len, int pktType, int mark, int queueMapping, int protocol, int vlanPresent, int vlanTci, int vlanProto,
            int priority, int ingressIfindex, int ifindex, int hash) {
        fields(len, pktType, mark, queueMapping, protocol, priority, ingressIfindex, ifindex, hash);
        field(20, vlanPresent);
        field(24, vlanTci);
        field(28, vlanProto);
    }

    @Override
    public void packet(MemorySegment buffer, int macHeader, int networkHeader, int data, int dataEnd) {
        packet(buffer, data, dataEnd, false);
        this.macHeader = macHeader;
        this.networkHeader = networkHeader;
    }

    @Override
    public void socketCookie(long cookie) {
        this.socketCookie = cookie;
    }

    @Override
    public long filter() {
        try {
            return program.run(memory, Memory.base(LoadedProgram.CTX_REGION), 0) & 0xffffffffL;
        } catch (BpfFault f) {
            return 0; // a fault drops, as a filter that returns 0
        }
    }

    /**
     * {@code BPF_LD|BPF_ABS} and {@code BPF_LD|BPF_IND} ({@code bpf_skb_load_helper_8/16/32}): {@code size}
     * bytes at {@code k} from the packet's start, or, for a negative {@code k}, from the network header
     * ({@code SKF_NET_OFF}) or the link-layer header ({@code SKF_LL_OFF}), in network order; -1 when
     * they are not all inside the skb, which ends the program with 0.
     */
    static long ldAbs(Memory m, int k, int size) {
        if (!(m.attachment() instanceof SkbBuffer s) || s.buffer == null) {
            return -1;
        }
        long at;
        if (k >= 0) {
            at = (long) s.data + k;
        } else if (k >= SKF_NET_OFF) {
            if (s.networkHeader < 0) {
                return -1;
            }
            at = (long) s.networkHeader + (k - SKF_NET_OFF);
        } else if (k >= SKF_LL_OFF) {
            if (s.macHeader < 0) {
                return -1; // skb_mac_header_was_set
            }
            at = (long) s.macHeader + (k - SKF_LL_OFF);
        } else {
            return -1;
        }
        if (at < 0 || at + size > s.dataEnd) {
            return -1;
        }
        return switch (size) {
            case 4 -> s.buffer.get(BE_U32, at) & 0xffffffffL;
            case 2 -> s.buffer.get(BE_U16, at) & 0xffffL;
            default -> s.buffer.get(ValueLayout.JAVA_BYTE, at) & 0xffL;
        };
    }

    /** A u32 of {@code __sk_buff} at {@code off}, where the rewritten load reads it (16 + off, little-endian). */
    private void field(int off, int value) {
        ctx.set(CTX_U32, 16 + off, value);
    }

    @Override
    public void csumPartial(boolean partial) {
        this.csumPartial = partial;
    }

    @Override
    public void packet(MemorySegment buffer, int data, int dataEnd, boolean writable) {
        if (this.buffer != buffer || this.writable != writable) {
            memory.set(LoadedProgram.PACKET_REGION, buffer, writable);
            this.buffer = buffer;
            this.writable = writable;
        }
        // the JIT's proven packet accesses are plain loads: [data, data_end) must lie in the buffer
        long size = buffer.byteSize();
        this.data = (int) Math.clamp(data, 0, size);
        this.dataEnd = (int) Math.clamp(dataEnd, this.data, size);
        this.macHeader = this.data; // tc's packet starts at the Ethernet header; a socket filter's packet() sets both after
        this.networkHeader = this.data + 14;
        long base = Memory.base(LoadedProgram.PACKET_REGION);
        ctxWords[0] = le(base + this.data);
        ctxWords[1] = le(base + this.dataEnd);
    }

    private static long le(long v) {
        return BIG_ENDIAN_HOST ? Long.reverseBytes(v) : v;
    }

    @Override
    public int run() {
        redirectIfindex = -1;
        redirectFlags = 0;
        try {
            return (int) program.run(memory, Memory.base(LoadedProgram.CTX_REGION), 0);
        } catch (BpfFault f) {
            return TC_ACT_SHOT;
        }
    }

    @Override
    public int mark() {
        return ctx.get(CTX_U32, 16 + 8);
    }

    @Override
    public int priority() {
        return ctx.get(CTX_U32, 16 + 32);
    }

    @Override
    public void tcClassid(int classid) {
        field(72, classid);
    }

    @Override
    public int tcClassid() {
        return ctx.get(CTX_U32, 16 + 72);
    }

    @Override
    public int data() {
        return data;
    }

    @Override
    public int dataEnd() {
        return dataEnd;
    }

    @Override
    public int redirectIfindex() {
        return redirectIfindex;
    }

    @Override
    public int redirectFlags() {
        return redirectFlags;
    }

    static SkbBuffer of(Memory m) {
        if (!(m.attachment() instanceof SkbBuffer s)) {
            throw new BpfFault("an skb helper was called outside tc");
        }
        return s;
    }

    /** The packet's bytes {@code [off, off + len)} from the Ethernet header, or -1 when they are not all there. */
    private long at(long off, long len) {
        if (off < 0 || len < 0 || off + len > dataEnd - data) {
            return -1;
        }
        return data + off;
    }

    /** {@code bpf_skb_load_bytes}: copies packet bytes to the program's memory. */
    long loadBytes(long off, long to, long len, Memory m) {
        MemorySegment dst = m.slice(to, len, true);
        long from = at(off, len);
        if (dst == null) {
            throw new BpfFault("bpf_skb_load_bytes: destination outside the program's memory");
        }
        if (from < 0) {
            dst.fill((byte) 0); // the kernel clears the buffer on failure
            return EFAULT;
        }
        MemorySegment.copy(buffer, from, dst, 0, len);
        return 0;
    }

    /** {@code bpf_skb_store_bytes}: copies the program's bytes into the packet. */
    long storeBytes(long off, long fromAddr, long len, long flags, Memory m) {
        if ((flags & ~STORE_FLAGS) != 0) {
            return EINVAL;
        }
        MemorySegment src = m.slice(fromAddr, len, false);
        long to = at(off, len);
        if (src == null) {
            throw new BpfFault("bpf_skb_store_bytes: source outside the program's memory");
        }
        if (to < 0 || !writable) {
            return EFAULT;
        }
        MemorySegment.copy(src, 0, buffer, to, len);
        return 0;
    }

    /**
     * {@code bpf_get_hash_recalc} ({@code skb_get_hash}): the frame's flow hash, computed when it has none
     * yet and kept in {@code __sk_buff.hash}, so a later read of the field sees it. The stack's own
     * {@link FlowDissector}, so the program's hash is the one the stack computes for the frame after the run.
     */
    long hashRecalc() {
        int h = ctx.get(CTX_U32, 16 + 68);
        if (h == 0) {
            int protocol = Short.reverseBytes((short) ctx.get(CTX_U32, 16 + 16)) & 0xffff; // __sk_buff.protocol is in network order
            h = FlowDissector.frameHash(buffer, data, dataEnd, protocol);
            field(68, h);
        }
        return h & 0xffffffffL;
    }

    /** One's complement addition of 16-bit words, carries folded in later. */
    private static long add(long sum, long word) {
        return sum + (word & 0xffff);
    }

    private static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    /**
     * {@code csum_replace2/4} and {@code csum_add} of a diff (RFC 1624: HC' = ~(~HC + ~m + m')): the new
     * checksum for the field at {@code at} after {@code from} became {@code to}; size 0 means {@code to}
     * is a checksum difference ({@code bpf_csum_diff}) and {@code from} must be 0.
     */
    private static int replaced(int check, long from, long to, int size) {
        long sum = (~check) & 0xffff;
        switch (size) {
            case 2 -> {
                sum = add(sum, ~from);
                sum = add(sum, to);
            }
            case 4 -> {
                sum = add(sum, ~(from >>> 16));
                sum = add(sum, ~from);
                sum = add(sum, to >>> 16);
                sum = add(sum, to);
            }
            default -> {
                sum = add(sum, to >>> 16);
                sum = add(sum, to);
            }
        }
        return ~fold(sum) & 0xffff;
    }

    /** {@code bpf_l3_csum_replace}: fixes the checksum at {@code off} for a changed header field. */
    long l3CsumReplace(long off, long from, long to, long flags) {
        int size = (int) (flags & HDR_FIELD_MASK);
        if ((flags & ~HDR_FIELD_MASK) != 0 || (size != 0 && size != 2 && size != 4) || (size == 0 && from != 0)) {
            return EINVAL;
        }
        long at = at(off, 2);
        if (at < 0 || !writable) {
            return EFAULT;
        }
        int check = buffer.get(U16, at) & 0xffff;
        buffer.set(U16, at, (short) replaced(check, from & 0xffff_ffffL, to & 0xffff_ffffL, size));
        return 0;
    }

    /**
     * {@code bpf_l4_csum_replace}: the same for a TCP/UDP/ICMP checksum; with {@code BPF_F_PSEUDO_HDR}
     * the field was part of the pseudo-header (an address); a UDP checksum of 0 (none) stays 0 with
     * {@code BPF_F_MARK_MANGLED_0}, and one that would become 0 is sent as 0xffff.
     */
    long l4CsumReplace(long off, long from, long to, long flags) {
        int size = (int) (flags & HDR_FIELD_MASK);
        if ((flags & ~(HDR_FIELD_MASK | F_PSEUDO_HDR | F_MARK_MANGLED_0 | F_MARK_ENFORCE)) != 0
                || (size != 0 && size != 2 && size != 4) || (size == 0 && from != 0)) {
            return EINVAL;
        }
        long at = at(off, 2);
        if (at < 0 || !writable) {
            return EFAULT;
        }
        int check = buffer.get(U16, at) & 0xffff;
        if (csumPartial) { // the field holds the pseudo-header's sum, not yet complemented; the rest is summed later
            if ((flags & F_PSEUDO_HDR) != 0) {
                buffer.set(U16, at, (short) ~replaced(~check & 0xffff, from & 0xffff_ffffL, to & 0xffff_ffffL, size));
            }
            return 0;
        }
        boolean mangled0 = (flags & F_MARK_MANGLED_0) != 0;
        if (mangled0 && check == 0) {
            return 0;
        }
        int next = replaced(check, from & 0xffff_ffffL, to & 0xffff_ffffL, size);
        if (mangled0 && next == 0) {
            next = 0xffff; // CSUM_MANGLED_0
        }
        buffer.set(U16, at, (short) next);
        return 0;
    }

    /** The helpers a socket filter gets from the implementation: bpf_skb_load_bytes and the socket's cookie and uid. */
    static Helpers sockHelpers() {
        Helpers h = new Helpers();
        h.register(HelperProtos.SKB_LOAD_BYTES, "bpf_skb_load_bytes", (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).loadBytes(r2, r3, r4, m));
        h.register(HelperProtos.GET_SOCKET_COOKIE, "bpf_get_socket_cookie", (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).socketCookie);
        // modnet's processes run as root: the socket's owner is uid 0
        h.register(HelperProtos.GET_SOCKET_UID, "bpf_get_socket_uid", (OwnHelper) (r1, r2, r3, r4, r5, m) -> 0L);
        return h;
    }

    /** The helpers a tc program gets from the implementation: the byte and checksum helpers and bpf_redirect. */
    static Helpers helpers() {
        Helpers h = new Helpers();
        h.register(HelperProtos.SKB_LOAD_BYTES, "bpf_skb_load_bytes", (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).loadBytes(r2, r3, r4, m));
        h.register(HelperProtos.SKB_STORE_BYTES, "bpf_skb_store_bytes",
                (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).storeBytes(r2, r3, r4, r5, m));
        h.register(HelperProtos.L3_CSUM_REPLACE, "bpf_l3_csum_replace", (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).l3CsumReplace(r2, r3, r4, r5));
        h.register(HelperProtos.L4_CSUM_REPLACE, "bpf_l4_csum_replace", (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).l4CsumReplace(r2, r3, r4, r5));
        h.register(HelperProtos.GET_HASH_RECALC, "bpf_get_hash_recalc", (OwnHelper) (r1, r2, r3, r4, r5, m) -> of(m).hashRecalc());
        h.register(HelperProtos.REDIRECT, "bpf_redirect", (OwnHelper) (r1, r2, r3, r4, r5, m) -> {
            SkbBuffer s = of(m);
            if ((r2 & ~(long) BPF_F_INGRESS) != 0) {
                return TC_ACT_SHOT; // unknown flags: TC_ACT_SHOT, as bpf_redirect answers
            }
            s.redirectIfindex = (int) r1;
            s.redirectFlags = (int) r2;
            return TC_ACT_REDIRECT;
        });
        return h;
    }
}
