package org.modnet.api.skb;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import org.modnet.api.net.NetDevice;

/**
 * A packet buffer, {@code struct sk_buff}: one packet from driver to socket and back. The bytes live
 * in a pooled data area; {@code head <= data <= tail <= end} are offsets into it ({@code head} is 0,
 * and every offset here, header offsets included, is counted from it, so an offset a getter returns
 * can be handed straight to {@link #getU16} and friends). Layers move {@code data} and {@code tail},
 * they do not copy: {@link #push} prepends a header into the headroom, {@link #pull} strips one,
 * {@link #put} appends. Paged fragments carry bytes beyond the linear area: {@link #len} counts both,
 * {@link #dataLen} the paged part, {@link #headLen} the linear part.
 *
 * <p>{@link #clone} makes a second head over the same data (counted); {@link #copy} makes new data.
 * Writing to data that a clone shares is refused with an {@link SkbException} until {@link #unshare}
 * or {@link #cow}, as {@code skb_cow} demands. {@link #get} adds a user of the head; {@link #free}
 * drops one, and the last returns the head, and the last reference the data, to the pool.
 *
 * <p>Misuse the kernel would panic on ({@code skb_under_panic}, {@code skb_over_panic}, a write to
 * shared data, a double free, use after free) throws {@link SkbException}; a byte access outside the
 * data area throws {@link IndexOutOfBoundsException}. Shortages the kernel reports with a return value
 * (a short {@link #pull}, a {@link #linearize} or {@link #unshare} without room or buffers) return
 * -1, false or null here too.
 *
 * <p>A buffer is used by one thread at a time (handed over, as the kernel hands an skb over, through a
 * queue); only {@link #get}/{@link #free} and the data reference count are safe across threads.
 * Byte access is big-endian (network order) and never allocates.
 */
public final class SkBuff {
    /** {@code MAX_SKB_FRAGS}. */
    public static final int MAX_SKB_FRAGS = 17;

    /**
     * What a head costs beyond its data area, for {@link #truesize} ({@code sizeof(struct sk_buff)}): a
     * layer that estimates a truesize (TCP's receive-window ratio) counts it as this one does. @since 1.4
     */
    public static final int HEAD_TRUESIZE = 256;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final VarHandle USERS;

    static {
        try {
            USERS = MethodHandles.lookup().findVarHandle(SkBuff.class, "users", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final SkBuffPool pool;
    final int index;
    /** Where the head was taken from the pool, only while leak checking is on. */
    Throwable allocatedAt;

    @SuppressWarnings("unused") // through USERS
    private volatile int users;
    private SkbData shinfo;
    private MemorySegment mem;
    private int data;
    private int tail;
    private int end;
    private int len;
    private int dataLen;
    private int truesize;
    private int macHeader;
    private int networkHeader;
    private int transportHeader;

    private final SkbData[] fragData = new SkbData[MAX_SKB_FRAGS];
    private final int[] fragOffset = new int[MAX_SKB_FRAGS];
    private final int[] fragSize = new int[MAX_SKB_FRAGS];
    private int nrFrags;

    private int protocol;
    private PktType pktType;
    private NetDevice dev;
    private SkbOwner owner;
    private int mark;
    private Object nfct;
    private int nfctInfo = NFCT_NONE;
    private int priority;
    private long tstamp;
    private Checksum ipSummed;
    private int csum;
    private int csumStart;
    private int csumOffset;
    private int gsoSize;
    private int gsoSegs;
    private int gsoType;
    private int queueMapping;
    private int hash;
    private int fragMaxSize;
    /** {@code skb->next}: the link of the one queue that owns the buffer now (a socket's backlog). */
    private SkBuff next;

    SkBuff(SkBuffPool pool, int index) {
        this.pool = pool;
        this.index = index;
    }

    /** {@code __alloc_skb}: a fresh head over fresh data, {@code headroom} reserved. */
    void init(SkbData d, int headroom) {
        reset();
        attach(d);
        data = headroom;
        tail = headroom;
        truesize = d.size() + HEAD_TRUESIZE;
        USERS.setVolatile(this, 1);
    }

    private void attach(SkbData d) {
        shinfo = d;
        mem = d.segment;
        end = d.size();
    }

    private void reset() {
        data = 0;
        tail = 0;
        len = 0;
        dataLen = 0;
        macHeader = -1;
        networkHeader = -1;
        transportHeader = -1;
        for (int i = 0; i < nrFrags; i++) {
            fragData[i] = null;
        }
        nrFrags = 0;
        protocol = 0;
        pktType = PktType.HOST;
        dev = null;
        owner = null;
        mark = 0;
        nfct = null;
        nfctInfo = NFCT_NONE;
        priority = 0;
        tstamp = 0;
        ipSummed = Checksum.NONE;
        csum = 0;
        csumStart = 0;
        csumOffset = 0;
        gsoSize = 0;
        gsoSegs = 0;
        gsoType = 0;
        queueMapping = 0;
        hash = 0;
        fragMaxSize = 0;
        next = null;
    }

    // --- offsets and lengths ---

    /** Offset of the first byte of packet data ({@code skb->data}). */
    public int data() {
        return data;
    }

    /** Offset just past the linear data ({@code skb_tail_pointer}). */
    public int tail() {
        return tail;
    }

    /** Size of the data area ({@code skb_end_offset}). */
    public int end() {
        return end;
    }

    /** Bytes in the packet: linear plus paged ({@code skb->len}). */
    public int len() {
        return len;
    }

    /** Bytes in paged fragments ({@code skb->data_len}). */
    public int dataLen() {
        return dataLen;
    }

    /** Bytes in the linear area ({@code skb_headlen}: {@code len - data_len}). */
    public int headLen() {
        return len - dataLen;
    }

    /** {@code skb_headroom}: bytes free in front of the data. */
    public int headroom() {
        return data;
    }

    /** {@code skb_tailroom}: room after the linear data; none once there are fragments. */
    public int tailroom() {
        return nrFrags > 0 ? 0 : end - tail;
    }

    /** {@code skb_is_nonlinear}: some of the packet is in fragments. */
    public boolean isNonlinear() {
        return dataLen != 0;
    }

    /**
     * {@code skb_reserve}: moves data and tail {@code n} bytes on, to leave headroom. Only an empty
     * buffer may be reserved.
     *
     * @throws SkbException if the buffer holds data or has no room for {@code n}
     */
    public void reserve(int n) {
        if (n < 0 || tail != data || len != 0 || tail + n > end) {
            throw new SkbException("skb_reserve: " + n + " on a buffer that is not empty or too small (" + this + ")");
        }
        data += n;
        tail += n;
    }

    /**
     * {@code skb_push}: {@code n} bytes more at the front; returns the new data offset.
     *
     * @throws SkbException ({@code skb_under_panic}) if the headroom is shorter than {@code n}; nothing moves
     */
    public int push(int n) {
        if (n < 0 || n > data) {
            throw new SkbException("skb_under_panic: push " + n + " with headroom " + data + " (" + this + ")");
        }
        data -= n;
        len += n;
        return data;
    }

    /**
     * {@code skb_pull}: strips {@code n} bytes at the front; returns the new data offset, or -1 (and
     * nothing changes) if the linear data is shorter than {@code n}. Unlike the kernel, which would
     * panic pulling into the paged part, a short linear area is a -1 too: call {@link #mayPull} first
     * when a header may lie in fragments.
     */
    public int pull(int n) {
        if (n < 0 || n > headLen()) {
            return -1;
        }
        data += n;
        len -= n;
        return data;
    }

    /**
     * {@code pskb_may_pull}: makes sure the first {@code n} bytes are linear, moving bytes out of the
     * fragments into the tailroom if needed. False if the packet is shorter than {@code n}, or there is
     * no room (or no buffer to unshare into) to move them.
     */
    public boolean mayPull(int n) {
        if (n <= headLen()) {
            return n >= 0;
        }
        if (n > len) {
            return false;
        }
        int need = n - headLen();
        if (end - tail < need || !unshare()) {
            return false;
        }
        // __pskb_pull_tail: copy from the first fragments, drop those emptied
        int dropped = 0;
        while (need > 0) {
            int i = dropped;
            int take = Math.min(fragSize[i], need);
            MemorySegment.copy(fragData[i].segment, fragOffset[i], mem, tail, take);
            tail += take;
            dataLen -= take;
            need -= take;
            fragOffset[i] += take;
            fragSize[i] -= take;
            if (fragSize[i] == 0) {
                fragData[i].release();
                dropped++;
            }
        }
        if (dropped > 0) {
            shiftFrags(dropped);
        }
        return true;
    }

    private void shiftFrags(int dropped) {
        int left = nrFrags - dropped;
        System.arraycopy(fragData, dropped, fragData, 0, left);
        System.arraycopy(fragOffset, dropped, fragOffset, 0, left);
        System.arraycopy(fragSize, dropped, fragSize, 0, left);
        for (int i = left; i < nrFrags; i++) {
            fragData[i] = null;
        }
        nrFrags = left;
    }

    /**
     * {@code skb_put}: {@code n} bytes more at the end of the linear data; returns the offset of the
     * first of them.
     *
     * @throws SkbException ({@code skb_over_panic}) if the tailroom is shorter than {@code n}; nothing moves
     */
    public int put(int n) {
        if (n < 0 || n > tailroom()) {
            throw new SkbException("skb_over_panic: put " + n + " with tailroom " + tailroom() + " (" + this + ")");
        }
        int old = tail;
        tail += n;
        len += n;
        return old;
    }

    /**
     * {@code skb_trim}/{@code pskb_trim}: cuts the packet to {@code newLen} bytes, fragments first.
     *
     * @throws SkbException if {@code newLen} is negative or longer than the packet
     */
    public void trim(int newLen) {
        if (newLen < 0 || newLen > len) {
            throw new SkbException("skb_trim: " + newLen + " of " + len);
        }
        int linear = headLen();
        if (newLen <= linear) {
            for (int i = 0; i < nrFrags; i++) {
                fragData[i].release();
                fragData[i] = null;
            }
            nrFrags = 0;
            dataLen = 0;
            tail = data + newLen;
            len = newLen;
            return;
        }
        int keep = newLen - linear;
        int i = 0;
        for (; i < nrFrags && keep > 0; i++) {
            if (fragSize[i] > keep) {
                fragSize[i] = keep;
            }
            keep -= fragSize[i];
        }
        for (int j = i; j < nrFrags; j++) {
            fragData[j].release();
            fragData[j] = null;
        }
        nrFrags = i;
        dataLen = newLen - linear;
        len = newLen;
    }

    // --- header offsets (from head, -1 until set) ---

    /** {@code skb_reset_mac_header}: the MAC header starts at data. */
    public void resetMacHeader() {
        macHeader = data;
    }

    /** {@code skb_reset_network_header}: the network header starts at data. */
    public void resetNetworkHeader() {
        networkHeader = data;
    }

    /** {@code skb_reset_transport_header}: the transport header starts at data. */
    public void resetTransportHeader() {
        transportHeader = data;
    }

    /** The MAC header starts at {@code offset} (from head). */
    public void setMacHeader(int offset) {
        macHeader = checkHeader(offset);
    }

    /** The network header starts at {@code offset} (from head). */
    public void setNetworkHeader(int offset) {
        networkHeader = checkHeader(offset);
    }

    /** The transport header starts at {@code offset} (from head). */
    public void setTransportHeader(int offset) {
        transportHeader = checkHeader(offset);
    }

    private int checkHeader(int offset) {
        if (offset < -1 || offset > end) {
            throw new SkbException("header offset " + offset + " outside the data area 0.." + end);
        }
        return offset;
    }

    /** Offset of the MAC header, or -1 if none was set. */
    public int macHeader() {
        return macHeader;
    }

    /** Offset of the network header, or -1 if none was set. */
    public int networkHeader() {
        return networkHeader;
    }

    /** Offset of the transport header, or -1 if none was set. */
    public int transportHeader() {
        return transportHeader;
    }

    /** {@code skb_mac_header_was_set}. */
    public boolean macHeaderWasSet() {
        return macHeader >= 0;
    }

    /** {@code skb_network_offset}: where the network header is, counted from data (negative once pulled). */
    public int networkOffset() {
        return networkHeader - data;
    }

    /** {@code skb_transport_offset}: where the transport header is, counted from data. */
    public int transportOffset() {
        return transportHeader - data;
    }

    // --- bytes at absolute offsets (from head, anywhere in the data area; network order) ---

    /** The byte at {@code offset} from head. */
    public int getU8(int offset) {
        return mem.get(ValueLayout.JAVA_BYTE, check(offset, 1)) & 0xff;
    }

    /** The big-endian 16-bit value at {@code offset} from head. */
    public int getU16(int offset) {
        return mem.get(U16, check(offset, 2)) & 0xffff;
    }

    /** The big-endian 32-bit value at {@code offset} from head (as an int; mask for unsigned). */
    public int getU32(int offset) {
        return mem.get(U32, check(offset, 4));
    }

    /** Copies {@code n} bytes at {@code offset} from head into {@code dst}. */
    public void getBytes(int offset, byte[] dst, int dstOffset, int n) {
        MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, check(offset, n), dst, dstOffset, n);
    }

    /** Writes a byte at {@code offset} from head; refused on shared data. */
    public void setU8(int offset, int v) {
        mem.set(ValueLayout.JAVA_BYTE, checkWrite(offset, 1), (byte) v);
    }

    /** Writes a big-endian 16-bit value at {@code offset} from head; refused on shared data. */
    public void setU16(int offset, int v) {
        mem.set(U16, checkWrite(offset, 2), (short) v);
    }

    /** Writes a big-endian 32-bit value at {@code offset} from head; refused on shared data. */
    public void setU32(int offset, int v) {
        mem.set(U32, checkWrite(offset, 4), v);
    }

    /** Copies {@code n} bytes of {@code src} to {@code offset} from head; refused on shared data. */
    public void setBytes(int offset, byte[] src, int srcOffset, int n) {
        MemorySegment.copy(src, srcOffset, mem, ValueLayout.JAVA_BYTE, checkWrite(offset, n), n);
    }

    // --- bytes relative to data (within the linear packet data only; network order) ---

    /** The byte {@code rel} bytes into the linear data. */
    public int getDataU8(int rel) {
        return mem.get(ValueLayout.JAVA_BYTE, checkLinear(rel, 1)) & 0xff;
    }

    /** The big-endian 16-bit value {@code rel} bytes into the linear data. */
    public int getDataU16(int rel) {
        return mem.get(U16, checkLinear(rel, 2)) & 0xffff;
    }

    /** The big-endian 32-bit value {@code rel} bytes into the linear data. */
    public int getDataU32(int rel) {
        return mem.get(U32, checkLinear(rel, 4));
    }

    /** Writes a byte {@code rel} bytes into the linear data; refused on shared data. */
    public void setDataU8(int rel, int v) {
        mem.set(ValueLayout.JAVA_BYTE, checkWritable(checkLinear(rel, 1)), (byte) v);
    }

    /** Writes a big-endian 16-bit value {@code rel} bytes into the linear data; refused on shared data. */
    public void setDataU16(int rel, int v) {
        mem.set(U16, checkWritable(checkLinear(rel, 2)), (short) v);
    }

    /** Writes a big-endian 32-bit value {@code rel} bytes into the linear data; refused on shared data. */
    public void setDataU32(int rel, int v) {
        mem.set(U32, checkWritable(checkLinear(rel, 4)), v);
    }

    /**
     * The data area, for code that reads in bulk (checksums, captures, device I/O): offsets from head.
     * Writing through it bypasses the shared-data check; call {@link #isWritable()} first.
     */
    public MemorySegment memory() {
        return mem;
    }

    private long check(int offset, int n) {
        if (offset < 0 || n < 0 || offset > end - n) {
            throw outside(offset, n, end);
        }
        return offset;
    }

    private long checkLinear(int rel, int n) {
        if (rel < 0 || n < 0 || rel > tail - data - n) {
            throw outside(data + rel, n, tail);
        }
        return data + rel;
    }

    private RuntimeException outside(int offset, int n, int limit) {
        if (mem == null) {
            return new SkbException("use of a freed skb (" + this + ")");
        }
        return new IndexOutOfBoundsException("skb access at " + offset + "+" + n + " outside 0.." + limit + " (" + this + ")");
    }

    private long checkWrite(int offset, int n) {
        return checkWritable(check(offset, n));
    }

    private long checkWritable(long offset) {
        if (shinfo.isShared()) {
            throw new SkbException("write to skb data shared with a clone: unshare() or cow() first (skb_cow)");
        }
        return offset;
    }

    /** Whether the data may be written now: no clone shares it ({@code !skb_cloned}). */
    public boolean isWritable() {
        return !shinfo.isShared();
    }

    /**
     * {@code skb_clone_writable}/{@code skb_try_make_writable} check: whether the first {@code n} bytes
     * of the packet may be written in place now (not shared, and linear).
     */
    public boolean isWritable(int n) {
        return n >= 0 && n <= headLen() && !shinfo.isShared();
    }

    // --- fragments ---

    /** {@code skb_shinfo(skb)->nr_frags}. */
    public int nrFrags() {
        return nrFrags;
    }

    /** {@code skb_frag_size}: bytes of fragment {@code i}. */
    public int fragSize(int i) {
        checkFrag(i);
        return fragSize[i];
    }

    /** {@code skb_frag_off}: where fragment {@code i} starts in its page. */
    public int fragOffset(int i) {
        checkFrag(i);
        return fragOffset[i];
    }

    /** The page fragment {@code i} points into (read only: pages may be shared). */
    public MemorySegment fragMemory(int i) {
        checkFrag(i);
        return fragData[i].segment;
    }

    private void checkFrag(int i) {
        if (i < 0 || i >= nrFrags) {
            throw new IndexOutOfBoundsException("frag " + i + " of " + nrFrags);
        }
    }

    /**
     * {@code skb_add_rx_frag}: appends {@code size} bytes at {@code offset} of a page from this
     * buffer's pool (the buffer takes its own reference; the caller keeps its). Adds to {@link #len},
     * {@link #dataLen} and {@link #truesize}. False if all {@value #MAX_SKB_FRAGS} are used.
     *
     * @throws SkbException if the page is from another pool or the range is outside it
     */
    public boolean addFrag(SkbData page, int offset, int size) {
        if (page.pool != pool || offset < 0 || size < 0 || offset > page.segment.byteSize() - size) {
            throw new SkbException("skb_add_rx_frag: bad page or range " + offset + "+" + size + " of " + page);
        }
        if (nrFrags == MAX_SKB_FRAGS) {
            return false;
        }
        page.retain();
        fragData[nrFrags] = page;
        fragOffset[nrFrags] = offset;
        fragSize[nrFrags] = size;
        nrFrags++;
        len += size;
        dataLen += size;
        truesize += page.size();
        return true;
    }

    /** A page for fragments, from this buffer's pool (the caller holds one reference), or null. */
    public SkbData allocPage() {
        return pool.allocData();
    }

    /** Drops the caller's reference to a page from {@link #allocPage}. */
    public static void releasePage(SkbData page) {
        page.release();
    }

    /**
     * {@code skb_linearize}: copies the fragments into the linear area (unsharing it first if a clone
     * holds it). False, and nothing changes, if they do not fit after the tail or no buffer is free for
     * the unshare.
     */
    public boolean linearize() {
        if (nrFrags == 0) {
            return true;
        }
        if (dataLen > end - tail || !unshare()) {
            return false;
        }
        for (int i = 0; i < nrFrags; i++) {
            MemorySegment.copy(fragData[i].segment, fragOffset[i], mem, tail, fragSize[i]);
            tail += fragSize[i];
            fragData[i].release();
            fragData[i] = null;
        }
        nrFrags = 0;
        dataLen = 0;
        return true;
    }

    // --- sharing ---

    /** {@code skb_get}: one more user of this head; returns it. */
    public SkBuff get() {
        USERS.getAndAdd(this, 1);
        return this;
    }

    /** {@code refcount_read(&skb->users)}. */
    public int users() {
        return (int) USERS.getVolatile(this);
    }

    /** {@code skb_shared}: more than one user of this head. */
    public boolean isShared() {
        return users() > 1;
    }

    /** {@code skb_cloned}: the data is shared with a clone. */
    public boolean isCloned() {
        return shinfo.isShared();
    }

    /**
     * {@code skb_clone}: a new head over the same data and fragments, with the same offsets and
     * metadata but no owner; or null if the pool has no free head.
     */
    @Override
    public SkBuff clone() {
        SkBuff c = pool.allocHead();
        if (c == null) {
            return null;
        }
        c.copyHeader(this);
        shinfo.retain();
        c.attach(shinfo);
        c.data = data;
        c.tail = tail;
        c.len = len;
        c.dataLen = dataLen;
        c.truesize = truesize;
        c.nrFrags = nrFrags;
        for (int i = 0; i < nrFrags; i++) {
            fragData[i].retain();
            c.fragData[i] = fragData[i];
            c.fragOffset[i] = fragOffset[i];
            c.fragSize[i] = fragSize[i];
        }
        USERS.setVolatile(c, 1);
        return c;
    }

    /**
     * {@code skb_copy}: an independent buffer with its own data, fragments copied into its linear
     * area, same headroom, offsets and metadata, no owner; null if the pool has no buffer or the
     * packet does not fit one linear area.
     */
    public SkBuff copy() {
        if (tail + dataLen > pool.bufferSize()) {
            return null;
        }
        SkBuff c = pool.allocHead();
        if (c == null) {
            return null;
        }
        SkbData d = pool.allocData();
        if (d == null) {
            pool.freeHead(c);
            return null;
        }
        c.copyHeader(this);
        c.attach(d);
        MemorySegment.copy(mem, 0, c.mem, 0, tail);
        c.data = data;
        c.tail = tail;
        c.len = headLen();
        for (int i = 0; i < nrFrags; i++) {
            MemorySegment.copy(fragData[i].segment, fragOffset[i], c.mem, c.tail, fragSize[i]);
            c.tail += fragSize[i];
            c.len += fragSize[i];
        }
        c.truesize = d.size() + HEAD_TRUESIZE;
        USERS.setVolatile(c, 1);
        return c;
    }

    /**
     * {@code skb_unshare}: makes the data this head's own (copying the linear area, headroom included,
     * if a clone shares it), so it may be written. Offsets do not move. False, and nothing changes, if
     * the pool has no data area for the copy. Fragments stay shared: they are never written in place.
     */
    public boolean unshare() {
        return !shinfo.isShared() || expandHead(data);
    }

    /**
     * {@code skb_cow}: makes the data private and at least {@code headroom} bytes of headroom, moving
     * the linear data (and every header offset with it) into a new data area if either is missing.
     * False, and nothing changes, if the pool has no data area or the data does not fit behind that
     * much headroom.
     */
    public boolean cow(int headroom) {
        if (headroom < 0) {
            throw new SkbException("skb_cow: negative headroom " + headroom);
        }
        if (data >= headroom && !shinfo.isShared()) {
            return true;
        }
        return expandHead(Math.max(data, headroom));
    }

    /** {@code pskb_expand_head}: the linear data, with what precedes it, moved into a new area at {@code newHeadroom}. */
    private boolean expandHead(int newHeadroom) {
        int delta = newHeadroom - data;
        if (tail + delta > pool.bufferSize()) {
            return false;
        }
        SkbData d = pool.allocData();
        if (d == null) {
            return false;
        }
        // the old headroom comes along, so a MAC header in front of data stays readable
        MemorySegment.copy(mem, 0, d.segment, delta, tail);
        SkbData old = shinfo;
        attach(d);
        old.release();
        if (delta != 0) {
            data += delta;
            tail += delta;
            macHeader = shift(macHeader, delta);
            networkHeader = shift(networkHeader, delta);
            transportHeader = shift(transportHeader, delta);
            if (ipSummed == Checksum.PARTIAL) {
                csumStart += delta;
            }
        }
        return true;
    }

    private static int shift(int header, int delta) {
        return header < 0 ? header : header + delta;
    }

    private void copyHeader(SkBuff o) {
        reset();
        macHeader = o.macHeader;
        networkHeader = o.networkHeader;
        transportHeader = o.transportHeader;
        protocol = o.protocol;
        pktType = o.pktType;
        dev = o.dev;
        mark = o.mark;
        nfct = o.nfct;
        nfctInfo = o.nfctInfo;
        priority = o.priority;
        tstamp = o.tstamp;
        ipSummed = o.ipSummed;
        csum = o.csum;
        csumStart = o.csumStart;
        csumOffset = o.csumOffset;
        gsoSize = o.gsoSize;
        gsoSegs = o.gsoSegs;
        gsoType = o.gsoType;
        queueMapping = o.queueMapping;
        hash = o.hash;
        fragMaxSize = o.fragMaxSize;
    }

    /**
     * {@code kfree_skb}/{@code consume_skb}: drops a user. The last one tells the owner, releases the
     * fragments and the data (the data returns to the pool when no clone holds it) and returns the head
     * to the pool. Safe to call from any thread.
     *
     * @throws SkbException on a free of a buffer with no users left (a double free). A double free
     *     that comes after the head was handed out again cannot be told from a legitimate free.
     */
    public void free() {
        int left = (int) USERS.getAndAdd(this, -1) - 1;
        if (left > 0) {
            return;
        }
        if (left < 0) {
            USERS.compareAndSet(this, left, 0);
            throw new SkbException("kfree_skb: double free of skb#" + index);
        }
        try {
            orphan();
        } finally {
            for (int i = 0; i < nrFrags; i++) {
                fragData[i].release();
                fragData[i] = null;
            }
            nrFrags = 0;
            SkbData d = shinfo;
            shinfo = null;
            mem = null;
            dev = null;
            end = 0;
            data = 0;
            tail = 0;
            len = 0;
            dataLen = 0;
            d.release();
            pool.freeHead(this);
        }
    }

    /** For the leak report: one count per reference this live head holds, by data area. */
    void countReferences(int[] held) {
        SkbData d = shinfo;
        if (d != null) {
            held[d.index]++;
        }
        for (int i = 0; i < nrFrags; i++) {
            SkbData f = fragData[i];
            if (f != null) {
                held[f.index]++;
            }
        }
    }

    // --- accounting ---

    /**
     * {@code skb_set_owner_w}/{@code skb_set_owner_r}: who is told, once, when the buffer is freed
     * ({@code skb->destructor}). A previous owner is told first, as {@code skb_orphan} does.
     */
    public void setOwner(SkbOwner o) {
        orphan();
        owner = o;
    }

    /** {@code skb_orphan}: tells the owner now, and forgets it. */
    public void orphan() {
        SkbOwner o = owner;
        if (o != null) {
            owner = null;
            o.release(this);
        }
    }

    /** The owner, or null. */
    public SkbOwner owner() {
        return owner;
    }

    /**
     * {@code skb->truesize}: what the buffer costs its owner — its data area and a head, and the pages
     * of fragments added. Fixed while the buffer lives (trim and linearize do not lower it), so what is
     * charged at one time can be uncharged at another.
     */
    public int truesize() {
        return truesize;
    }

    // --- metadata ---

    /** {@code skb->protocol}: the ethertype, host order. */
    public int protocol() {
        return protocol;
    }

    public void protocol(int p) {
        protocol = p;
    }

    /** {@code skb->pkt_type}. */
    public PktType pktType() {
        return pktType;
    }

    public void pktType(PktType t) {
        pktType = t;
    }

    /** {@code skb->dev}: the device it arrived on or leaves by. */
    public NetDevice dev() {
        return dev;
    }

    public void dev(NetDevice d) {
        dev = d;
    }

    /** {@link #nfctInfo()} of a packet conntrack has not seen or could not track (ctstate INVALID). */
    public static final int NFCT_NONE = -1;
    /** {@code enum ip_conntrack_info}: {@code IP_CT_ESTABLISHED}, a packet of a flow seen both ways. */
    public static final int IP_CT_ESTABLISHED = 0;
    /** {@code IP_CT_RELATED}: an ICMP error (or an expected flow) that belongs to a tracked flow. */
    public static final int IP_CT_RELATED = 1;
    /** {@code IP_CT_NEW}: the flow's packets so far go one way only. */
    public static final int IP_CT_NEW = 2;
    /** {@code IP_CT_IS_REPLY}: added to ESTABLISHED or RELATED for the reply direction. */
    public static final int IP_CT_IS_REPLY = 3;
    /** {@code IP_CT_UNTRACKED}: NOTRACK / CT --notrack took it out of tracking. */
    public static final int IP_CT_UNTRACKED = 7;

    /**
     * {@code skb->_nfct}: the connection-tracking entry this packet belongs to (an object of the
     * conntrack bundle, opaque to everyone else), or null.
     */
    public Object nfct() {
        return nfct;
    }

    /** {@code skb->_nfct}'s info bits: one of the {@code IP_CT_*} values, or {@link #NFCT_NONE}. */
    public int nfctInfo() {
        return nfctInfo;
    }

    /** {@code nf_ct_set}: attaches the entry and its info to the packet. */
    public void nfct(Object ct, int info) {
        nfct = ct;
        nfctInfo = info;
    }

    /**
     * {@code IPCB(skb)->frag_max_size}: on a datagram IP reassembled, the size of the largest fragment it
     * came in (header included); 0 on any other. Output cuts such a datagram again to no more than this.
     * @since 1.5
     */
    public int fragMaxSize() {
        return fragMaxSize;
    }

    /** Sets {@link #fragMaxSize()}. @since 1.5 */
    public void fragMaxSize(int size) {
        fragMaxSize = size;
    }

    /** {@code skb->mark}: the netfilter/routing mark. */
    public int mark() {
        return mark;
    }

    public void mark(int m) {
        mark = m;
    }

    /** {@code skb->priority}: the queueing priority. */
    public int priority() {
        return priority;
    }

    public void priority(int p) {
        priority = p;
    }

    /** {@code skb->tstamp}, in nanoseconds of the stack's clock. */
    public long tstamp() {
        return tstamp;
    }

    public void tstamp(long t) {
        tstamp = t;
    }

    /** {@code skb->ip_summed}. */
    public Checksum ipSummed() {
        return ipSummed;
    }

    public void ipSummed(Checksum c) {
        ipSummed = c;
    }

    /** {@code skb->csum}: the device's sum for {@link Checksum#COMPLETE}. */
    public int csum() {
        return csum;
    }

    public void csum(int c) {
        csum = c;
    }

    /** {@code skb->csum_start}: offset from head. */
    public int csumStart() {
        return csumStart;
    }

    /** {@code skb->csum_offset}: where the sum goes, from {@link #csumStart}. */
    public int csumOffset() {
        return csumOffset;
    }

    /** {@code CHECKSUM_PARTIAL}: the checksum of the bytes from {@code start} goes at {@code start + offset}. */
    public void csumPartial(int start, int offset) {
        ipSummed = Checksum.PARTIAL;
        csumStart = start;
        csumOffset = offset;
    }

    /** {@code skb_shinfo(skb)->gso_size}: payload bytes per segment, 0 when not GSO. */
    public int gsoSize() {
        return gsoSize;
    }

    /** {@code gso_segs}. */
    public int gsoSegs() {
        return gsoSegs;
    }

    /** {@code gso_type} ({@code SKB_GSO_*} bits). */
    public int gsoType() {
        return gsoType;
    }

    /** Sets {@code gso_size}, {@code gso_segs} and {@code gso_type}. */
    public void gso(int size, int segs, int type) {
        gsoSize = size;
        gsoSegs = segs;
        gsoType = type;
    }

    /**
     * {@code skb->next}: the next buffer in the queue that holds this one, for queues that link their
     * buffers instead of allocating nodes (a socket's backlog). Only the queue's owner uses it.
     */
    public SkBuff next() {
        return next;
    }

    public void next(SkBuff n) {
        next = n;
    }

    /** {@code skb_is_gso}. */
    public boolean isGso() {
        return gsoSize != 0;
    }

    /** {@code skb->queue_mapping}: the device queue. */
    public int queueMapping() {
        return queueMapping;
    }

    public void queueMapping(int q) {
        queueMapping = q;
    }

    /** {@code skb->hash}: the flow hash (RSS). */
    public int hash() {
        return hash;
    }

    public void hash(int h) {
        hash = h;
    }

    @Override
    public String toString() {
        return "skb#" + index + "[len=" + len + " data_len=" + dataLen + " data=" + data + " tail=" + tail + " end=" + end
                + " users=" + users() + "]";
    }
}
