package org.modnet.drivers.afpacket;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The writers' side of a packet socket's transmit ring (PACKET_TX_RING on a TPACKET_V3 socket;
 * packet(7), Documentation/networking/packet_mmap.rst): {@code frames} fixed slots of {@code frameSize}
 * bytes, each a {@code struct tpacket3_hdr} ({@code tp_next_offset} 0: the kernel takes no chained
 * slots for transmit) with the frame after it at {@link #DATA}. A writer takes the slot at the head
 * when its status is TP_STATUS_AVAILABLE, fills it, and sets TP_STATUS_SEND_REQUEST; a
 * {@code send(fd, NULL, 0)} (the kick) then has the kernel send every requested slot from its own
 * position on, in ring order, setting each back to TP_STATUS_AVAILABLE once the frame left (so slots are
 * reclaimed by the kernel itself: a slot not yet available is a full ring). Several writers at once:
 * the head is taken with a compare-and-set, never a lock.
 */
final class TxRing {
    // struct tpacket3_hdr
    static final int TP_NEXT_OFFSET = 0;
    static final int TP_SNAPLEN = 12;
    static final int TP_LEN = 16;
    static final int TP_STATUS = 20;
    /** {@code TPACKET_ALIGN(sizeof(struct tpacket3_hdr))}: where the kernel reads the frame without PACKET_TX_HAS_OFF. */
    static final int DATA = 48;
    static final int TP_STATUS_AVAILABLE = 0;
    static final int TP_STATUS_SEND_REQUEST = 1;
    static final int TP_STATUS_SENDING = 1 << 1;
    static final int TP_STATUS_WRONG_FORMAT = 1 << 2;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    final MemorySegment ring;
    final int frameSize;
    final int frames;
    /** The largest frame a slot holds. */
    final int maxLen;
    /** Slots taken so far; the next one is {@code head % frames}. */
    private final AtomicLong head = new AtomicLong();

    TxRing(MemorySegment ring, int frameSize, int frames) {
        this.ring = ring;
        this.frameSize = frameSize;
        this.frames = frames;
        this.maxLen = frameSize - DATA;
    }

    /**
     * The ring offset of a slot now this writer's, or -1 when the slot at the head is still the
     * kernel's (requested or being sent): the ring is full. A slot the kernel refused
     * (TP_STATUS_WRONG_FORMAT, which a frame of at most {@link #maxLen} bytes never is) is taken again.
     */
    long claim() {
        while (true) {
            long h = head.get();
            long at = (h % frames) * frameSize;
            int status = (int) INT.getAcquire(ring, at + TP_STATUS);
            if ((status & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) != 0) {
                if (head.get() != h) {
                    continue; // another writer took this slot and filled it since h was read: look at the next
                }
                return -1;
            }
            // the slot's status changes only by its owner (this writer, once the head moves) and the kernel
            if (head.compareAndSet(h, h + 1)) {
                return at;
            }
        }
    }

    /** Where the frame of the slot at {@code hdr} goes. */
    long data(long hdr) {
        return hdr + DATA;
    }

    /**
     * The slot's frame of {@code len} bytes handed to the kernel: header filled, then the status set
     * with a full fence, so a kick after this (from any thread) finds it.
     */
    void submit(long hdr, int len) {
        ring.set(ValueLayout.JAVA_INT, hdr + TP_NEXT_OFFSET, 0);
        ring.set(ValueLayout.JAVA_INT, hdr + TP_SNAPLEN, len);
        ring.set(ValueLayout.JAVA_INT, hdr + TP_LEN, len);
        INT.setVolatile(ring, hdr + TP_STATUS, TP_STATUS_SEND_REQUEST);
    }

    int status(long hdr) {
        return (int) INT.getAcquire(ring, hdr + TP_STATUS);
    }

    /** Slots the kernel has not given back yet (requested or being sent), for {@code ethtool -S}. */
    int inFlight() {
        int n = 0;
        for (int i = 0; i < frames; i++) {
            if ((status((long) i * frameSize) & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) != 0) {
                n++;
            }
        }
        return n;
    }
}
