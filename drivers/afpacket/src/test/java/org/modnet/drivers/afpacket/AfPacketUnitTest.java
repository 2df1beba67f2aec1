package org.modnet.drivers.afpacket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;

/**
 * Without root: the TPACKET_V3 ring walk on a ring laid out by hand as the kernel lays it out, the
 * completion of a partial checksum, and the arguments of {@code ip link add ... type afpacket}.
 */
class AfPacketUnitTest {
    private static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** A block as the kernel retires it: status, frame count, first frame's offset, frames chained by tp_next_offset. */
    private static void block(MemorySegment ring, int blockSize, int b, int status, int... frameLens) {
        long base = (long) b * blockSize;
        ring.set(ValueLayout.JAVA_INT, base + RxRing.BLOCK_STATUS, status);
        ring.set(ValueLayout.JAVA_INT, base + RxRing.BLOCK_NUM_PKTS, frameLens.length);
        ring.set(ValueLayout.JAVA_INT, base + RxRing.BLOCK_FIRST_PKT, 48);
        long at = base + 48;
        for (int i = 0; i < frameLens.length; i++) {
            int next = i + 1 < frameLens.length ? 128 : 0;
            ring.set(ValueLayout.JAVA_INT, at + RxRing.TP_NEXT_OFFSET, next);
            ring.set(ValueLayout.JAVA_INT, at + RxRing.TP_SNAPLEN, frameLens[i]);
            ring.set(ValueLayout.JAVA_INT, at + RxRing.TP_LEN, frameLens[i]);
            ring.set(ValueLayout.JAVA_SHORT, at + RxRing.TP_MAC, (short) 66);
            at += next;
        }
    }

    @Test
    void theRingIsWalkedFrameByFrameAndEachBlockGoesBackToTheKernelAfterItsLastFrame() {
        int bs = 4096;
        MemorySegment ring = Arena.ofAuto().allocate(2L * bs, 64);
        RxRing rx = new RxRing(ring, bs, 2);
        assertEquals(-1, rx.next(), "nothing retired yet");
        block(ring, bs, 0, RxRing.TP_STATUS_USER, 60, 70);
        long a = rx.next();
        assertEquals(48, a);
        assertEquals(60, rx.snaplen(a));
        assertEquals(48 + 66, rx.mac(a));
        assertEquals(a, rx.next(), "the same frame until advanced");
        rx.advance();
        long b = rx.next();
        assertEquals(48 + 128, b);
        assertEquals(70, rx.len(b));
        assertEquals(RxRing.TP_STATUS_USER, ring.get(ValueLayout.JAVA_INT, RxRing.BLOCK_STATUS), "still the reader's");
        rx.advance();
        assertEquals(RxRing.TP_STATUS_KERNEL, ring.get(ValueLayout.JAVA_INT, RxRing.BLOCK_STATUS), "handed back after its last frame");
        assertEquals(-1, rx.next(), "block 1 is still the kernel's");
        block(ring, bs, 1, RxRing.TP_STATUS_USER | RxRing.TP_STATUS_LOSING, 80);
        block(ring, bs, 0, RxRing.TP_STATUS_USER, 90);
        assertEquals(bs + 48, rx.next(), "block 1 next, then around to block 0");
        rx.advance();
        assertEquals(90, rx.snaplen(rx.next()));
        rx.advance();
        assertEquals(-1, rx.next());
    }

    @Test
    void aFrameChainThatLeavesItsBlockEndsTheBlockInsteadOfReadingPastIt() {
        int bs = 4096;
        MemorySegment ring = Arena.ofAuto().allocate(2L * bs, 64);
        RxRing rx = new RxRing(ring, bs, 2);
        block(ring, bs, 0, RxRing.TP_STATUS_USER, 60, 60, 60);
        ring.set(ValueLayout.JAVA_INT, 48 + RxRing.TP_NEXT_OFFSET, 1 << 20);
        rx.next();
        rx.advance();
        assertEquals(RxRing.TP_STATUS_KERNEL, ring.get(ValueLayout.JAVA_INT, RxRing.BLOCK_STATUS));
        assertEquals(-1, rx.next());
    }

    /** Ones' complement sum of big-endian 16-bit words, folded (the test's own, not the code under test's). */
    private static int sum(byte[] b, int off, int len, int acc) {
        for (int i = 0; i < len; i += 2) {
            acc += ((b[off + i] & 0xff) << 8) | (i + 1 < len ? b[off + i + 1] & 0xff : 0);
        }
        while ((acc >>> 16) != 0) {
            acc = (acc & 0xffff) + (acc >>> 16);
        }
        return acc;
    }

    /** An Ethernet frame (optionally 802.1Q tagged) with IPv4 and UDP or TCP, its transport checksum complete. */
    private static byte[] frame(boolean vlan, int proto, int payload) {
        int l3 = vlan ? 18 : 14;
        int l4len = (proto == 17 ? 8 : 20) + payload;
        byte[] f = new byte[l3 + 20 + l4len];
        f[12] = (byte) (vlan ? 0x81 : 0x08);
        if (vlan) {
            f[14] = 0;
            f[15] = 5;
            f[16] = 0x08;
        }
        f[l3] = 0x45;
        f[l3 + 9] = (byte) proto;
        byte[] src = { 10, 0, 0, 1 };
        byte[] dst = { 10, 0, 0, 2 };
        System.arraycopy(src, 0, f, l3 + 12, 4);
        System.arraycopy(dst, 0, f, l3 + 16, 4);
        int l4 = l3 + 20;
        for (int i = (proto == 17 ? 8 : 20); i < l4len; i++) {
            f[l4 + i] = (byte) (i * 7);
        }
        if (proto == 17) {
            f[l4 + 4] = (byte) (l4len >> 8);
            f[l4 + 5] = (byte) l4len;
        } else {
            f[l4 + 12] = 0x50;
        }
        int field = l4 + (proto == 17 ? 6 : 16);
        int c = ~sum(f, l4, l4len, pseudo(f, l3, proto, l4len)) & 0xffff;
        f[field] = (byte) (c >> 8);
        f[field + 1] = (byte) c;
        return f;
    }

    private static int pseudo(byte[] f, int l3, int proto, int l4len) {
        return sum(f, l3 + 12, 8, proto + l4len);
    }

    @Test
    void aPartialChecksumLeftByLinuxIsCompletedForUdpAndTcpTaggedOrNot() {
        for (boolean vlan : new boolean[] { false, true }) {
            for (int proto : new int[] { 17, 6 }) {
                byte[] good = frame(vlan, proto, 333);
                int l3 = vlan ? 18 : 14;
                int l4len = good.length - l3 - 20;
                int field = l3 + 20 + (proto == 17 ? 6 : 16);
                byte[] partial = good.clone();
                int p = pseudo(good, l3, proto, l4len); // CHECKSUM_PARTIAL: the pseudo-header's sum, not complemented
                partial[field] = (byte) (p >> 8);
                partial[field + 1] = (byte) p;
                MemorySegment m = Arena.ofAuto().allocate(partial.length + 10);
                MemorySegment.copy(partial, 0, m, ValueLayout.JAVA_BYTE, 10, partial.length);
                assertTrue(AfPacketDriver.completeChecksum(m, 10, partial.length));
                assertEquals(Short.toUnsignedInt(m.get(BE16, 10 + field)), ((good[field] & 0xff) << 8) | (good[field + 1] & 0xff),
                        "proto " + proto + (vlan ? " tagged" : ""));
            }
        }
    }

    @Test
    void aFrameThatIsNotTcpOrUdpOverIpIsLeftAlone() {
        byte[] arp = new byte[42];
        arp[12] = 0x08;
        arp[13] = 0x06;
        MemorySegment m = MemorySegment.ofArray(arp.clone());
        assertFalse(AfPacketDriver.completeChecksum(m, 0, arp.length));
        byte[] icmp = frame(false, 17, 10);
        icmp[14 + 9] = 1;
        assertFalse(AfPacketDriver.completeChecksum(MemorySegment.ofArray(icmp), 0, icmp.length));
        assertFalse(AfPacketDriver.completeChecksum(MemorySegment.ofArray(new byte[10]), 0, 10), "a runt");
    }

    @Test
    void theArgumentsAreParsedAsIpLinkAddTakesThemAndBadOnesSaySo() throws Exception {
        AfPacketDriver.Args a = AfPacketDriver.Args.parse(List.of("dev", "lxb", "netns", "L2", "promisc", "off"));
        assertEquals("lxb", a.dev());
        assertEquals("L2", a.netns());
        assertFalse(a.promisc());
        assertTrue(AfPacketDriver.Args.parse(List.of("dev", "eth0")).promisc(), "promiscuous by default: modnet has its own MAC");
        NetException none = assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of()));
        assertTrue(none.getMessage().contains("\"dev LINUXDEV\" is required"), none.getMessage());
        NetException tooLong = assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "a-very-long-name-x")));
        assertEquals("Cannot find device \"a-very-long-name-x\"", tooLong.getMessage());
        assertEquals(Errno.ENODEV, tooLong.errno());
        assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev")));
        assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "x", "promisc", "maybe")));
        assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "x", "netns", "../etc")));
        assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "x", "bogus")));
    }

    /** One pass over a two-block ring of UDP frames with partial checksums, as the NAPI poll walks it. */
    private static int pass(MemorySegment ring, RxRing rx, int bs, byte[] frame) {
        for (int b = 0; b < 2; b++) {
            ring.set(ValueLayout.JAVA_INT, (long) b * bs + RxRing.BLOCK_STATUS, RxRing.TP_STATUS_USER);
        }
        int sum = 0;
        long hdr;
        while ((hdr = rx.next()) >= 0) {
            long mac = rx.mac(hdr);
            if (AfPacketDriver.completeChecksum(ring, mac, rx.snaplen(hdr))) {
                sum += ring.get(ValueLayout.JAVA_BYTE, mac + 14 + 20 + 6);
            }
            rx.advance();
        }
        return sum + 1;
    }

    @Test
    void walkingTheRingAndCompletingChecksumsAllocatesNothing() {
        int bs = 4096;
        MemorySegment ring = Arena.ofAuto().allocate(2L * bs, 64);
        byte[] frame = frame(false, 17, 10); // 52 bytes: fits between one header (mac at 66) and the next (128 on)
        for (int b = 0; b < 2; b++) {
            block(ring, bs, b, 0, frame.length, frame.length, frame.length);
            for (int f = 0; f < 3; f++) {
                MemorySegment.copy(frame, 0, ring, ValueLayout.JAVA_BYTE, (long) b * bs + 48 + 128L * f + 66, frame.length);
            }
        }
        RxRing rx = new RxRing(ring, bs, 2);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        int sink = 0;
        for (int i = 0; i < 20_000; i++) {
            sink += pass(ring, rx, bs, frame);
        }
        long before = threads.getThreadAllocatedBytes(id);
        for (int i = 0; i < 100_000; i++) {
            sink += pass(ring, rx, bs, frame);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        assertTrue(allocated < 100_000, allocated + " bytes for 600000 frames: something allocates per frame");
        assertTrue(sink != 0);
    }

    /** The kernel's side of a transmit ring: every requested slot from {@code from} on, in order, sent and given back; how many. */
    private static int kernelSends(TxRing tx, int from, List<Integer> lens) {
        int n = 0;
        for (int i = from;; i = (i + 1) % tx.frames) {
            long hdr = (long) i * tx.frameSize;
            if (tx.ring.get(ValueLayout.JAVA_INT, hdr + TxRing.TP_STATUS) != TxRing.TP_STATUS_SEND_REQUEST) {
                return n;
            }
            assertEquals(0, tx.ring.get(ValueLayout.JAVA_INT, hdr + TxRing.TP_NEXT_OFFSET), "a V3 transmit slot has no next offset");
            lens.add(tx.ring.get(ValueLayout.JAVA_INT, hdr + TxRing.TP_LEN));
            assertEquals(tx.ring.get(ValueLayout.JAVA_INT, hdr + TxRing.TP_LEN), tx.ring.get(ValueLayout.JAVA_INT, hdr + TxRing.TP_SNAPLEN));
            tx.ring.set(ValueLayout.JAVA_INT, hdr + TxRing.TP_STATUS, TxRing.TP_STATUS_AVAILABLE);
            n++;
        }
    }

    @Test
    void theTransmitRingFillsSlotsInOrderIsFullWhenTheKernelHoldsThemAllAndTakesThemBackOnceSent() {
        int fs = 2048;
        TxRing tx = new TxRing(Arena.ofAuto().allocate(4L * fs, 64), fs, 4);
        assertEquals(2000, tx.maxLen, "a slot holds its frame after the 48-byte tpacket3_hdr");
        for (int i = 0; i < 4; i++) {
            long slot = tx.claim();
            assertEquals((long) i * fs, slot, "slots in ring order");
            assertEquals(slot + 48, tx.data(slot), "TPACKET_ALIGN(sizeof(struct tpacket3_hdr))");
            tx.ring.set(ValueLayout.JAVA_BYTE, tx.data(slot), (byte) (0x10 + i));
            tx.submit(slot, 60 + i);
            assertEquals(TxRing.TP_STATUS_SEND_REQUEST, tx.status(slot));
        }
        assertEquals(4, tx.inFlight());
        assertEquals(-1, tx.claim(), "every slot the kernel's: the ring is full, and the writer does not wait");
        // the kernel is sending the first (TP_STATUS_SENDING): still not free
        tx.ring.set(ValueLayout.JAVA_INT, TxRing.TP_STATUS, TxRing.TP_STATUS_SENDING);
        assertEquals(-1, tx.claim());
        tx.ring.set(ValueLayout.JAVA_INT, TxRing.TP_STATUS, TxRing.TP_STATUS_SEND_REQUEST);
        List<Integer> sent = new java.util.ArrayList<>();
        assertEquals(4, kernelSends(tx, 0, sent), "one kick sends every requested slot");
        assertEquals(List.of(60, 61, 62, 63), sent);
        assertEquals(0, tx.inFlight());
        assertEquals(0, tx.claim(), "given back by the kernel: the head wraps to the first slot");
        // a slot the kernel refused is taken again
        tx.submit(0, 10);
        tx.ring.set(ValueLayout.JAVA_INT, TxRing.TP_STATUS, TxRing.TP_STATUS_WRONG_FORMAT);
        assertEquals(fs, tx.claim());
    }

    @Test
    void writersOnSeveralThreadsNeverShareASlot() throws Exception {
        int fs = 128;
        int frames = 64;
        TxRing tx = new TxRing(Arena.ofShared().allocate((long) frames * fs, 64), fs, frames);
        int threads = 4;
        java.util.concurrent.ConcurrentLinkedQueue<Long> taken = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < frames / threads; i++) {
                    long slot = tx.claim();
                    taken.add(slot);
                    tx.ring.set(ValueLayout.JAVA_INT, tx.data(slot), id);
                    tx.submit(slot, 4);
                }
            });
        }
        for (Thread t : ts) {
            t.join();
        }
        assertEquals(frames, new java.util.HashSet<>(taken).size(), "each slot taken once: " + taken);
        assertEquals(-1, tx.claim(), "all requested");
        assertEquals(frames, kernelSends(tx, 0, new java.util.ArrayList<>()));
    }

    @Test
    void fillingTheTransmitRingAllocatesNothing() {
        int fs = 2048;
        TxRing tx = new TxRing(Arena.ofAuto().allocate(16L * fs, 64), fs, 16);
        MemorySegment frame = Arena.ofAuto().allocate(1514, 8);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        for (int round = 0; round < 2; round++) {
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 200_000; i++) {
                long slot = tx.claim();
                MemorySegment.copy(frame, 0, tx.ring, tx.data(slot), 1514);
                tx.submit(slot, 1514);
                tx.ring.set(ValueLayout.JAVA_INT, slot + TxRing.TP_STATUS, TxRing.TP_STATUS_AVAILABLE); // the kernel sent it
            }
            long allocated = threads.getThreadAllocatedBytes(id) - before;
            if (round == 1) {
                assertTrue(allocated < 100_000, allocated + " bytes for 200000 frames: something allocates per frame");
            }
        }
    }

    @Test
    void severalQueuesAFanoutModeAndTheTransmitRingAreArgumentsOfTheLink() throws Exception {
        AfPacketDriver.Args d = AfPacketDriver.Args.parse(List.of("dev", "lxb"));
        assertEquals(1, d.queues(), "one queue, no fanout group, unless asked");
        assertEquals(Packet.PACKET_FANOUT_HASH, d.fanout());
        assertTrue(d.txRing(), "the transmit ring by default");
        AfPacketDriver.Args a = AfPacketDriver.Args.parse(List.of("dev", "lxb", "numrxqueues", "2", "fanout", "lb", "txring", "off"));
        assertEquals(2, a.queues());
        assertEquals(Packet.PACKET_FANOUT_LB, a.fanout());
        assertFalse(a.txRing());
        assertEquals(Packet.PACKET_FANOUT_CPU, AfPacketDriver.Args.parse(List.of("dev", "x", "fanout", "cpu")).fanout());
        assertEquals(Packet.PACKET_FANOUT_QM, AfPacketDriver.Args.parse(List.of("dev", "x", "fanout", "qm")).fanout());
        assertEquals(Packet.PACKET_FANOUT_RND, AfPacketDriver.Args.parse(List.of("dev", "x", "fanout", "rnd")).fanout());
        NetException zero = assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "x", "numrxqueues", "0")));
        assertTrue(zero.getMessage().contains("Invalid \"numrxqueues\" value \"0\""), zero.getMessage());
        assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "x", "numrxqueues", "17")));
        assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "x", "numrxqueues", "two")));
        assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "x", "fanout", "rollover")));
        assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "x", "txring", "maybe")));
    }

    /**
     * {@code ip link add NAME numrxqueues N type afpacket dev X}: the count given before {@code type}
     * (rtnl_create_link's IFLA_NUM_RX_QUEUES) is the driver's queue count, as the same word after it; both
     * given must agree, and one out of range is refused in the driver's words.
     */
    @Test
    void theQueueCountGivenBeforeTheTypeIsTheDriversCount() throws Exception {
        assertEquals(2, AfPacketDriver.Args.parse(List.of("dev", "lxb"), 2).queues(), "numrxqueues 2 before type");
        assertEquals(1, AfPacketDriver.Args.parse(List.of("dev", "lxb"), 0).queues(), "none given: one");
        assertEquals(3, AfPacketDriver.Args.parse(List.of("dev", "lxb", "numrxqueues", "3"), 3).queues(), "both, the same");
        NetException differ = assertThrows(NetException.class,
                () -> AfPacketDriver.Args.parse(List.of("dev", "lxb", "numrxqueues", "3"), 2));
        assertEquals(Errno.EINVAL, differ.errno());
        NetException tooMany = assertThrows(NetException.class, () -> AfPacketDriver.Args.parse(List.of("dev", "lxb"), 17));
        assertTrue(tooMany.getMessage().contains("Invalid \"numrxqueues\" value \"17\""), tooMany.getMessage());
    }
}
