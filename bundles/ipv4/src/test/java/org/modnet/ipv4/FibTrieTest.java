package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** Longest-prefix match, checked against a linear scan of the same table. */
class FibTrieTest {

    private static int ip(int a, int b, int c, int d) {
        return a << 24 | b << 16 | c << 8 | d;
    }

    private static void route(FibTrie<String> fib, int prefix, int len, String name) {
        fib.routesOf(prefix, len).add(name);
    }

    @Test
    void theLongestMatchingPrefixWins() {
        FibTrie<String> fib = new FibTrie<>();
        route(fib, 0, 0, "default");
        route(fib, ip(10, 0, 0, 0), 8, "10/8");
        route(fib, ip(10, 1, 0, 0), 16, "10.1/16");
        route(fib, ip(10, 1, 2, 0), 24, "10.1.2/24");
        route(fib, ip(10, 1, 2, 3), 32, "host");

        assertEquals(List.of("host"), fib.lookup(ip(10, 1, 2, 3)));
        assertEquals(List.of("10.1.2/24"), fib.lookup(ip(10, 1, 2, 4)));
        assertEquals(List.of("10.1/16"), fib.lookup(ip(10, 1, 3, 1)));
        assertEquals(List.of("10/8"), fib.lookup(ip(10, 200, 0, 1)));
        assertEquals(List.of("default"), fib.lookup(ip(192, 168, 0, 1)));
    }

    @Test
    void withoutADefaultRouteAnAddressOutsideEveryPrefixHasNoRoute() {
        FibTrie<String> fib = new FibTrie<>();
        route(fib, ip(10, 0, 0, 0), 8, "10/8");
        assertNull(fib.lookup(ip(11, 0, 0, 1)));
    }

    @Test
    void hostBitsOfAPrefixAreIgnored() {
        FibTrie<String> fib = new FibTrie<>();
        route(fib, ip(10, 1, 2, 3), 24, "net");
        assertEquals(List.of("net"), fib.exact(ip(10, 1, 2, 0), 24));
    }

    @Test
    void removingAPrefixLeavesTheShorterOnesAndCompressesThePath() {
        FibTrie<String> fib = new FibTrie<>();
        route(fib, ip(10, 0, 0, 0), 8, "10/8");
        route(fib, ip(10, 1, 0, 0), 16, "10.1/16");
        route(fib, ip(10, 2, 0, 0), 16, "10.2/16");
        int nodes = fib.nodes();

        fib.exact(ip(10, 1, 0, 0), 16).clear();
        fib.prune(ip(10, 1, 0, 0), 16);

        assertEquals(List.of("10/8"), fib.lookup(ip(10, 1, 0, 1)));
        assertEquals(List.of("10.2/16"), fib.lookup(ip(10, 2, 0, 1)));
        assertEquals(2, fib.prefixes());
        assertTrue(fib.nodes() < nodes);
    }

    @Test
    void aBadPrefixLengthIsRefused() {
        FibTrie<String> fib = new FibTrie<>();
        assertThrows(IllegalArgumentException.class, () -> fib.routesOf(0, 33));
        assertThrows(IllegalArgumentException.class, () -> fib.exact(0, -1));
    }

    @Test
    void aHundredThousandRandomRoutesAgreeWithALinearScanAndUseFewerThanTwoNodesEach() {
        Random random = new Random(42);
        FibTrie<String> fib = new FibTrie<>();
        List<int[]> table = new ArrayList<>();
        while (fib.prefixes() < 100_000) {
            int len = 8 + random.nextInt(25);
            int prefix = random.nextInt() & FibTrie.mask(len);
            if (fib.exact(prefix, len) == null) {
                route(fib, prefix, len, prefix + "/" + len);
                table.add(new int[] { prefix, len });
            }
        }
        assertTrue(fib.nodes() < 2 * fib.prefixes(), fib.nodes() + " nodes");
        for (int i = 0; i < 5_000; i++) {
            // half the probes inside a known prefix, half anywhere
            int address = random.nextBoolean() ? random.nextInt()
                    : table.get(random.nextInt(table.size()))[0] | (random.nextInt() & ~FibTrie.mask(
                            table.get(random.nextInt(table.size()))[1]));
            int bestLen = -1;
            int best = 0;
            for (int[] r : table) {
                if ((address & FibTrie.mask(r[1])) == r[0] && r[1] > bestLen) {
                    bestLen = r[1];
                    best = r[0];
                }
            }
            List<String> found = fib.lookup(address);
            if (bestLen < 0) {
                assertNull(found, Integer.toHexString(address));
            } else {
                assertEquals(List.of(best + "/" + bestLen), found, Integer.toHexString(address));
            }
        }
    }
}
