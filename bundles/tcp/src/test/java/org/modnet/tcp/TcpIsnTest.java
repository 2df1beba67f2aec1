package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class TcpIsnTest {
    private static final int A = 0x0a000001;
    private static final int B = 0x0a000002;

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final TcpIsn isn = new TcpIsn(now::get, 0x0706050403020100L, 0x0f0e0d0c0b0a0908L, 11, 22);

    @Test
    void theIsnOfOneTupleAdvancesOnePer64Nanoseconds() {
        int first = isn.seq(A, B, 40000, 80);
        now.addAndGet(64);
        assertEquals(first + 1, isn.seq(A, B, 40000, 80));
        now.addAndGet(1_000_000_000L);
        assertEquals(first + 1 + 15_625_000, isn.seq(A, B, 40000, 80), "15.625 million per second");
    }

    @Test
    void theIsnOfOneTupleOnlyMovesForwardOverTime() {
        int last = isn.seq(A, B, 40000, 80);
        for (int i = 0; i < 1000; i++) {
            now.addAndGet(1_000_000 + i * 997L); // 1 ms and a bit, up to a few seconds in all
            int next = isn.seq(A, B, 40000, 80);
            assertTrue(TcpSeq.after(next, last), "step " + i);
            last = next;
        }
    }

    @Test
    void theIsnWrapsAfterAbout274Seconds() {
        int first = isn.seq(A, B, 40000, 80);
        now.addAndGet(64L << 32);
        assertEquals(first, isn.seq(A, B, 40000, 80));
    }

    @Test
    void differentTuplesGetUnrelatedIsnsAtTheSameTime() {
        Set<Integer> seen = new HashSet<>();
        for (int port = 40000; port < 41000; port++) {
            seen.add(isn.seq(A, B, port, 80));
        }
        seen.add(isn.seq(B, A, 80, 40000));
        seen.add(isn.seq(A, B + 1, 40000, 80));
        assertEquals(1002, seen.size(), "no two of 1002 tuples share an ISN");
        int d1 = isn.seq(A, B, 40001, 80) - isn.seq(A, B, 40000, 80);
        int d2 = isn.seq(A, B, 40002, 80) - isn.seq(A, B, 40001, 80);
        assertNotEquals(d1, d2, "neighbouring ports are not a fixed stride apart");
    }

    @Test
    void swappingThePortsGivesAnotherIsn() {
        assertNotEquals(isn.hash(A, B, 1000, 2000), isn.hash(A, B, 2000, 1000));
    }

    @Test
    void theHashIsSipHashOfTheBytesLinuxHashes() {
        // saddr, daddr in network order, then dport and sport in network order: siphash_3u32 on little-endian
        byte[] m = { 10, 0, 0, 1, 10, 0, 0, 2, 0, 80, (byte) 0x9c, 0x40 };
        long expected = SipHash.hash(0x0706050403020100L, 0x0f0e0d0c0b0a0908L, m, 0, 12);
        assertEquals((int) expected, isn.hash(A, B, 40000, 80));
    }

    @Test
    void anotherSecretGivesOtherIsns() {
        TcpIsn other = new TcpIsn(now::get, 1, 2, 3, 4);
        assertNotEquals(isn.seq(A, B, 40000, 80), other.seq(A, B, 40000, 80));
    }

    @Test
    void freshInstancesDrawTheirOwnSecrets() {
        assertNotEquals(new TcpIsn(now::get).seq(A, B, 1, 2), new TcpIsn(now::get).seq(A, B, 1, 2));
    }

    @Test
    void timestampOffsetsAreKeyedByTheAddressPairWhenTcpTimestampsIsOne() {
        int ab = isn.tsOff(1, A, B);
        assertEquals(ab, isn.tsOff(1, A, B), "the same pair, the same offset");
        assertNotEquals(ab, isn.tsOff(1, B, A));
        byte[] m = { 10, 0, 0, 1, 10, 0, 0, 2 };
        assertEquals((int) SipHash.hash(11, 22, m, 0, 8), ab);
    }

    @Test
    void timestampOffsetsAreZeroWhenTcpTimestampsIsZeroOrTwo() {
        assertEquals(0, isn.tsOff(0, A, B));
        assertEquals(0, isn.tsOff(2, A, B));
    }
}
