package org.modnet.drivers.afpacket;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The reader's side of a TPACKET_V3 receive ring (packet(7), Documentation/networking/packet_mmap.rst):
 * {@code blocks} blocks of {@code blockSize} bytes, each a {@code struct tpacket_block_desc} whose
 * {@code block_status} the kernel sets to TP_STATUS_USER when it retires the block (full, or its timer
 * ran out), followed by {@code num_pkts} frames, each a {@code struct tpacket3_hdr} chained by
 * {@code tp_next_offset}. The reader walks the frames of the oldest retired block and hands the block
 * back (TP_STATUS_KERNEL) when it has taken them all. One reader at a time (the queue's NAPI poll).
 */
final class RxRing {
    // struct tpacket_block_desc: version, offset_to_priv, then struct tpacket_hdr_v1
    static final int BLOCK_STATUS = 8;
    static final int BLOCK_NUM_PKTS = 12;
    static final int BLOCK_FIRST_PKT = 16;
    // struct tpacket3_hdr
    static final int TP_NEXT_OFFSET = 0;
    static final int TP_SNAPLEN = 12;
    static final int TP_LEN = 16;
    static final int TP_STATUS = 20;
    static final int TP_MAC = 24;
    static final int TP_VLAN_TCI = 32;
    static final int TP_VLAN_TPID = 36;
    /** {@code tp_status} and {@code block_status} bits. */
    static final int TP_STATUS_KERNEL = 0;
    static final int TP_STATUS_USER = 1;
    static final int TP_STATUS_LOSING = 1 << 2;
    static final int TP_STATUS_CSUMNOTREADY = 1 << 3;
    static final int TP_STATUS_VLAN_VALID = 1 << 4;
    static final int TP_STATUS_VLAN_TPID_VALID = 1 << 6;
    static final int TP_STATUS_CSUM_VALID = 1 << 7;

    /** The block status as shared memory: read with acquire, handed back with release (the kernel's smp_wmb/smp_rmb pairing). */
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    final MemorySegment ring;
    final int blockSize;
    final int blocks;
    private int block;
    /** Frames of the current block not yet taken; 0 when no block is open. */
    private int left;
    /** Offset in the ring of the current frame's header. */
    private long at;

    RxRing(MemorySegment ring, int blockSize, int blocks) {
        this.ring = ring;
        this.blockSize = blockSize;
        this.blocks = blocks;
    }

    /**
     * The ring offset of the next frame's {@code tpacket3_hdr}, or -1 when no retired block waits.
     * The frame stays the reader's until {@link #advance}.
     */
    long next() {
        while (left == 0) {
            long base = (long) block * blockSize;
            int status = (int) INT.getAcquire(ring, base + BLOCK_STATUS);
            if ((status & TP_STATUS_USER) == 0) {
                return -1;
            }
            left = ring.get(ValueLayout.JAVA_INT, base + BLOCK_NUM_PKTS);
            at = base + Integer.toUnsignedLong(ring.get(ValueLayout.JAVA_INT, base + BLOCK_FIRST_PKT));
            if (left <= 0 || at >= base + blockSize) {
                left = 0;
                release(); // an empty (or impossible) block: back to the kernel
            }
        }
        return at;
    }

    /** Past the current frame; the block goes back to the kernel after its last frame. */
    void advance() {
        if (--left > 0) {
            long next = at + Integer.toUnsignedLong(ring.get(ValueLayout.JAVA_INT, at + TP_NEXT_OFFSET));
            long end = (long) block * blockSize + blockSize;
            if (next > at && next < end) {
                at = next;
                return;
            }
            left = 0; // a chain that leaves its block: the rest of the block is not trusted
        }
        release();
    }

    /** The current block back to the kernel, and on to the next. */
    private void release() {
        INT.setRelease(ring, (long) block * blockSize + BLOCK_STATUS, TP_STATUS_KERNEL);
        block = block + 1 == blocks ? 0 : block + 1;
    }

    int status(long hdr) {
        return ring.get(ValueLayout.JAVA_INT, hdr + TP_STATUS);
    }

    int snaplen(long hdr) {
        return ring.get(ValueLayout.JAVA_INT, hdr + TP_SNAPLEN);
    }

    int len(long hdr) {
        return ring.get(ValueLayout.JAVA_INT, hdr + TP_LEN);
    }

    /** Offset in the ring of the frame's first (Ethernet) byte. */
    long mac(long hdr) {
        return hdr + Short.toUnsignedInt(ring.get(ValueLayout.JAVA_SHORT, hdr + TP_MAC));
    }

    int vlanTci(long hdr) {
        return ring.get(ValueLayout.JAVA_INT, hdr + TP_VLAN_TCI) & 0xffff;
    }

    /** The tag's protocol: {@code tp_vlan_tpid} when the kernel says it is valid, else 802.1Q. */
    int vlanTpid(long hdr, int status) {
        return (status & TP_STATUS_VLAN_TPID_VALID) != 0 ? Short.toUnsignedInt(ring.get(ValueLayout.JAVA_SHORT, hdr + TP_VLAN_TPID)) : 0x8100;
    }
}
