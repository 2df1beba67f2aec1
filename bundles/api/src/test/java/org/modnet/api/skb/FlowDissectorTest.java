package org.modnet.api.skb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code skb_get_hash}: the flow keys one dissector reads, hashed with Linux's {@code jhash}. */
class FlowDissectorTest {
    private static final int A = 0x0a000001;
    private static final int B = 0x0a000002;
    private final SkBuffPool pool = new SkBuffPool(8, 512);

    @AfterEach
    void nothingLeaked() {
        pool.assertNoLeaks();
    }

    /** An Ethernet frame carrying IPv4 from {@code saddr} to {@code daddr}, its first four L4 bytes the ports. */
    private SkBuff ipv4(int proto, int saddr, int sport, int daddr, int dport, int fragOff) {
        SkBuff skb = pool.alloc(64);
        int d = skb.put(64);
        skb.setU16(d + 12, 0x0800);
        skb.setU8(d + 14, 0x45);
        skb.setU16(d + 20, fragOff);
        skb.setU8(d + 23, proto);
        skb.setU32(d + 26, saddr);
        skb.setU32(d + 30, daddr);
        skb.setU16(d + 34, sport);
        skb.setU16(d + 36, dport);
        skb.protocol(0x0800);
        return skb;
    }

    private int hashOf(SkBuff skb) {
        int h = FlowDissector.skbGetHash(skb);
        skb.free();
        return h;
    }

    @Test
    void jhashGivesWhatLinuxsJhashHeaderGives() {
        // computed with include/linux/jhash.h: jhash2 of these four words, jhash_3words of these three
        assertEquals(0xdb4e53e9, FlowDissector.jhash4(0x0a000001, 0x0a000002, 0x03e80050, 0x00060800, 0));
        assertEquals(0x560cdb0b, FlowDissector.jhash4(0x0a000001, 0x0a000002, 0x03e80050, 0x00060800, 0x12345678));
        assertEquals(0xa46158f5, FlowDissector.jhash3words(1, 2, 3, 0));
        assertEquals(0x3e11c019, FlowDissector.jhash3words(0x7f000001, 0x7f000001, 0x1f40c350, 0x9e3779b9));
    }

    @Test
    void reciprocalScalePicksByTheHashsHighBitsNotItsRemainder() {
        assertEquals(0, FlowDissector.reciprocalScale(0x55555554, 3), "below a third of 2^32");
        assertEquals(1, FlowDissector.reciprocalScale(0x80000000, 3), "half way: the middle one (the remainder is 2)");
        assertEquals(2, FlowDissector.reciprocalScale(0xffffffff, 3), "the top: the last one (the remainder is 0)");
        assertEquals(0, FlowDissector.reciprocalScale(0xffffffff, 1));
    }

    @Test
    void aFrameHashesByItsAddressesProtocolAndPorts() {
        int h = hashOf(ipv4(6, A, 1000, B, 80, 0));
        assertEquals(h, hashOf(ipv4(6, A, 1000, B, 80, 0)), "the same flow, the same hash");
        assertNotEquals(h, hashOf(ipv4(6, A, 1001, B, 80, 0)), "another source port");
        assertNotEquals(h, hashOf(ipv4(17, A, 1000, B, 80, 0)), "another protocol");
        assertNotEquals(h, hashOf(ipv4(6, A, 1000, 0x0a000003, 80, 0)), "another address");
        assertEquals(FlowDissector.hashKeys(0x0800, 6, A, B, 1000 << 16 | 80), h, "the keys the dissector read");
    }

    @Test
    void bothDirectionsOfAFlowHashAlike() {
        assertEquals(hashOf(ipv4(6, A, 1000, B, 80, 0)), hashOf(ipv4(6, B, 80, A, 1000, 0)));
        assertEquals(hashOf(ipv4(17, A, 5000, A, 53, 0)), hashOf(ipv4(17, A, 53, A, 5000, 0)), "one address: by the ports");
    }

    @Test
    void fragmentsHashWithoutPortsSoAllOfADatagramStayTogether() {
        int first = hashOf(ipv4(17, A, 1000, B, 53, 0x2000)); // MF, offset 0: has the ports
        int later = hashOf(ipv4(17, A, 0x4142, B, 0x4344, 0x00b9)); // offset 185: payload where the ports were
        assertEquals(first, later);
        assertEquals(FlowDissector.hashKeys(0x0800, 17, A, B, 0), first);
        assertNotEquals(first, hashOf(ipv4(17, A, 1000, B, 53, 0)), "a whole datagram has its ports hashed");
    }

    @Test
    void aFrameThatIsNotIpv4IsOneFlowPerEthertype() {
        SkBuff arp = pool.alloc(64);
        int d = arp.put(42);
        arp.setU16(d + 12, 0x0806);
        arp.setU32(d + 28, A);
        arp.protocol(0x0806);
        SkBuff other = pool.alloc(64);
        d = other.put(42);
        other.setU16(d + 12, 0x0806);
        other.setU32(d + 28, B);
        other.protocol(0x0806);
        int h = hashOf(arp);
        assertEquals(h, hashOf(other));
        assertEquals(FlowDissector.hashKeys(0x0806, 0, 0, 0, 0), h);
        SkBuff runt = ipv4(6, A, 1000, B, 80, 0);
        runt.trim(30); // too short for an IPv4 header: by its protocol
        assertEquals(FlowDissector.hashKeys(0x0800, 0, 0, 0, 0), hashOf(runt));
    }

    @Test
    void aHashTheSkbCarriesIsKeptAndOneComputedIsStored() {
        SkBuff skb = ipv4(6, A, 1000, B, 80, 0);
        skb.hash(0x1234);
        assertEquals(0x1234, FlowDissector.skbGetHash(skb), "skb_get_hash computes only a missing hash");
        skb.hash(0);
        int h = FlowDissector.skbGetHash(skb);
        assertNotEquals(0, h);
        assertEquals(h, skb.hash(), "kept in the skb");
        skb.free();
    }
}
