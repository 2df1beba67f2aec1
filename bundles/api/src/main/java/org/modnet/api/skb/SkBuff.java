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
 * and every offset here is counted from it). Layers move {@code data} and {@code tail}, they do not
 * copy: {@link #push} prepends a header into the headroom, {@link #pull} strips one, {@link #put}
 * appends. Paged fragments carry bytes beyond the linear area: {@link #len} counts both,
 * {@link #dataLen} the paged part.
 *
 * <p>{@link #clone} makes a second head over the same data (counted); {@link #copy} makes new data.
 * Writing to data that a clone shares is refused until {@link #unshare}, as {@code skb_cow} demands.
 * {@link #get} adds a user of the head; {@link #free} drops one, and the last returns the head, and
 * the last reference the data, to the pool.
 *
 * <p>Byte access is big-endian (network order) and bounds-checked against the data area.
 */
public final class SkBuff {
    /** {@code MAX_SKB_FRAGS}. */
    public static final int MAX_SKB_FRAGS = 17;

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

    SkBuff(SkBuffPool pool, int index) {
        this.pool = pool;
        this.index = index;
    }

    /** A fresh head over fresh data, {@code headroom} reserved. */
    void init(SkbData d, int headroom) {
        reset();
        shinfo = d;
        mem = d.segment;
        end = (int) mem.byteSize();
        data = headroom;
        tail = headroom;
        USERS.setVolatile(this, 1);
    }

    private void reset() {
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
    }

    // --- offsets and lengths ---

    /** Offset of the first byte of packet data. */
    public int data() {
        return data;
    }

    /** Offset just past the linear data. */
    public int tail() {
        return tail;
    }

    /** Size of the data area. */
    public int end() {
        return end;
    }

    /** Bytes in the packet: linear plus paged. */
    public int len() {
        return len;
    }

    /** Bytes in paged fragments ({@code data_len}). */
    public int dataLen() {
        return dataLen;
    }

    /** Bytes in the linear area ({@code skb_headlen}). */
    public int headLen() {
        return len - dataLen;
    }

    public int headroom() {
        return data;
    }

    /** Room after the linear data; none once there are fragments, as {@code skb_tailroom} says. */
    public int tailroom() {
        return nrFrags > 0 ? 0 : end - tail;
    }

    /** {@code skb_reserve}: headroom for an empty buffer. */
    public void reserve(int n) {
        if (n < 0 || tail != data || len != 0 || tail + n > end) {
            throw new SkbException("skb_reserve: " + n + " on a buffer that is not empty or too small");
        }
        data += n;
        tail += n;
    }

    /** {@code skb_push}: {@code n} bytes more at the front; returns the new data offset. */
    public int push(int n) {
        if (n < 0 || n > data) {
            throw new SkbException("skb_under_panic: push " + n + " with headroom " + data);
        }
        data -= n;
        len += n;
        return data;
    }

    /**
     * {@code skb_pull}: strips {@code n} bytes at the front; returns the new data offset, or -1 (and
     * nothing changes) if the linear data is shorter than {@code n}.
     */
    public int pull(int n) {
        if (n < 0 || n > headLen()) {
            return -1;
        }
        data += n;
        len -= n;
        return data;
    }

    /** {@code skb_put}: {@code n} bytes more at the end; returns the offset of the first of them. */
    public int put(int n) {
        if (n < 0 || n > tailroom()) {
            throw new SkbException("skb_over_panic: put " + n + " with tailroom " + tailroom());
        }
        int old = tail;
        tail += n;
        len += n;
        return old;
    }

    /** {@code skb_trim}/{@code pskb_trim}: cuts the packet to {@code newLen} bytes, fragments first. */
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

    // --- header offsets ---

    public void resetMacHeader() {
        macHeader = data;
    }

    public void resetNetworkHeader() {
        networkHeader = data;
    }

    public void resetTransportHeader() {
        transportHeader = data;
    }

    public void setMacHeader(int offset) {
        macHeader = offset;
    }

    public void setNetworkHeader(int offset) {
        networkHeader = offset;
    }

    public void setTransportHeader(int offset) {
        transportHeader = offset;
    }

    /** Offset of the MAC header, or -1 if none was set. */
    public int macHeader() {
        return macHeader;
    }

    public int networkHeader() {
        return networkHeader;
    }

    public int transportHeader() {
        return transportHeader;
    }

    // --- bytes (offsets from head, network order) ---

    public int getU8(int offset) {
        return mem.get(ValueLayout.JAVA_BYTE, check(offset, 1)) & 0xff;
    }

    public int getU16(int offset) {
        return mem.get(U16, check(offset, 2)) & 0xffff;
    }

    public int getU32(int offset) {
        return mem.get(U32, check(offset, 4));
    }

    public void getBytes(int offset, byte[] dst, int dstOffset, int n) {
        MemorySegment.copy(mem, ValueLayout.JAVA_BYTE, check(offset, n), dst, dstOffset, n);
    }

    public void setU8(int offset, int v) {
        mem.set(ValueLayout.JAVA_BYTE, checkWrite(offset, 1), (byte) v);
    }

    public void setU16(int offset, int v) {
        mem.set(U16, checkWrite(offset, 2), (short) v);
    }

    public void setU32(int offset, int v) {
        mem.set(U32, checkWrite(offset, 4), v);
    }

    public void setBytes(int offset, byte[] src, int srcOffset, int n) {
        MemorySegment.copy(src, srcOffset, mem, ValueLayout.JAVA_BYTE, checkWrite(offset, n), n);
    }

    /** The data area, for code that reads in bulk (checksums, captures): offsets from head. */
    public MemorySegment memory() {
        return mem;
    }

    private long check(int offset, int n) {
        if (offset < 0 || n < 0 || offset > end - n) {
            throw new IndexOutOfBoundsException("skb access at " + offset + "+" + n + " outside 0.." + end);
        }
        return offset;
    }

    private long checkWrite(int offset, int n) {
        if (shinfo.isShared()) {
            throw new SkbException("write to skb data shared with a clone: unshare() first (skb_cow)");
        }
        return check(offset, n);
    }

    /** Whether {@code n} bytes from {@code offset} may be written now (data not shared). */
    public boolean isWritable() {
        return !shinfo.isShared();
    }

    // --- fragments ---

    public int nrFrags() {
        return nrFrags;
    }

    public int fragSize(int i) {
        checkFrag(i);
        return fragSize[i];
    }

    public int fragOffset(int i) {
        checkFrag(i);
        return fragOffset[i];
    }

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
     * buffer's pool (the buffer takes a reference). False if all {@value #MAX_SKB_FRAGS} are used.
     */
    public boolean addFrag(SkbData page, int offset, int size) {
        if (page.pool != pool || offset < 0 || size < 0 || offset > page.segment.byteSize() - size) {
            throw new SkbException("skb_add_rx_frag: bad page or range");
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

    /** {@code skb_linearize}: copies the fragments into the linear area; false if they do not fit. */
    public boolean linearize() {
        if (nrFrags == 0) {
            return true;
        }
        if (dataLen > end - tail || shinfo.isShared()) {
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

    /** {@code skb_clone}: a new head over the same data and fragments, or null if the pool has no head. */
    public SkBuff clone() {
        SkBuff c = pool.allocHead();
        if (c == null) {
            return null;
        }
        c.copyHeader(this);
        shinfo.retain();
        c.shinfo = shinfo;
        c.mem = mem;
        c.end = end;
        c.data = data;
        c.tail = tail;
        c.len = len;
        c.dataLen = dataLen;
        c.nrFrags = nrFrags;
        for (int i = 0; i < nrFrags; i++) {
            fragData[i].retain();
            c.fragData[i] = fragData[i];
            c.fragOffset[i] = fragOffset[i];
            c.fragSize[i] = fragSize[i];
        }
        c.owner = null; // a clone is not charged to the owner
        USERS.setVolatile(c, 1);
        return c;
    }

    /** {@code skb_copy}: an independent buffer, fragments copied into its linear area; null if it cannot be. */
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
        c.shinfo = d;
        c.mem = d.segment;
        c.end = (int) d.segment.byteSize();
        MemorySegment.copy(mem, 0, c.mem, 0, tail);
        c.data = data;
        c.tail = tail;
        c.len = headLen();
        for (int i = 0; i < nrFrags; i++) {
            MemorySegment.copy(fragData[i].segment, fragOffset[i], c.mem, c.tail, fragSize[i]);
            c.tail += fragSize[i];
            c.len += fragSize[i];
        }
        c.owner = null;
        USERS.setVolatile(c, 1);
        return c;
    }

    /**
     * {@code skb_unshare}/{@code skb_cow}: makes the data this head's own (copying it if a clone shares
     * it), so it may be written. False if the pool has no data area for the copy.
     */
    public boolean unshare() {
        if (!shinfo.isShared()) {
            return true;
        }
        SkbData d = pool.allocData();
        if (d == null) {
            return false;
        }
        MemorySegment.copy(mem, 0, d.segment, 0, tail);
        shinfo.release();
        shinfo = d;
        mem = d.segment;
        return true;
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
    }

    /**
     * {@code kfree_skb}: drops a user. The last one tells the owner, releases the fragments and the data
     * (the data returns to the pool when no clone holds it) and returns the head to the pool.
     */
    public void free() {
        int left = (int) USERS.getAndAdd(this, -1) - 1;
        if (left > 0) {
            return;
        }
        if (left < 0) {
            USERS.setVolatile(this, 0);
            throw new SkbException("kfree_skb: double free of " + this);
        }
        SkbOwner o = owner;
        owner = null;
        if (o != null) {
            o.release(this);
        }
        for (int i = 0; i < nrFrags; i++) {
            fragData[i].release();
            fragData[i] = null;
        }
        nrFrags = 0;
        SkbData d = shinfo;
        shinfo = null;
        mem = null;
        dev = null;
        d.release();
        pool.freeHead(this);
    }

    // --- accounting ---

    /** {@code skb_set_owner_w}/{@code _r}: who is told when the buffer is freed. */
    public void setOwner(SkbOwner o) {
        owner = o;
    }

    public SkbOwner owner() {
        return owner;
    }

    /** What the buffer costs its owner: the data area, its fragments' pages, and a head ({@code truesize}). */
    public int truesize() {
        return pool.bufferSize() * (1 + nrFrags) + 256;
    }

    // --- metadata ---

    public int protocol() {
        return protocol;
    }

    public void protocol(int p) {
        protocol = p;
    }

    public PktType pktType() {
        return pktType;
    }

    public void pktType(PktType t) {
        pktType = t;
    }

    public NetDevice dev() {
        return dev;
    }

    public void dev(NetDevice d) {
        dev = d;
    }

    public int mark() {
        return mark;
    }

    public void mark(int m) {
        mark = m;
    }

    public int priority() {
        return priority;
    }

    public void priority(int p) {
        priority = p;
    }

    public long tstamp() {
        return tstamp;
    }

    public void tstamp(long t) {
        tstamp = t;
    }

    public Checksum ipSummed() {
        return ipSummed;
    }

    public void ipSummed(Checksum c) {
        ipSummed = c;
    }

    public int csum() {
        return csum;
    }

    public void csum(int c) {
        csum = c;
    }

    public int csumStart() {
        return csumStart;
    }

    public int csumOffset() {
        return csumOffset;
    }

    /** {@code CHECKSUM_PARTIAL}: the checksum of the bytes from {@code start} goes at {@code start + offset}. */
    public void csumPartial(int start, int offset) {
        ipSummed = Checksum.PARTIAL;
        csumStart = start;
        csumOffset = offset;
    }

    public int gsoSize() {
        return gsoSize;
    }

    public int gsoSegs() {
        return gsoSegs;
    }

    public int gsoType() {
        return gsoType;
    }

    public void gso(int size, int segs, int type) {
        gsoSize = size;
        gsoSegs = segs;
        gsoType = type;
    }

    public int queueMapping() {
        return queueMapping;
    }

    public void queueMapping(int q) {
        queueMapping = q;
    }

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
