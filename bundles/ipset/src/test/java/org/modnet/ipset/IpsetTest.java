package org.modnet.ipset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** The ipset command's sets, output and errors (ipset 7.17's words), and what a packet finds in them. */
class IpsetTest {
    private final long[] now = { 0 };
    private final Ipset ipset = new Ipset(() -> now[0]);
    private final SkBuffPool pool = new SkBuffPool(16, 512);

    private List<String> run(String line) {
        return ipset.run(List.of(line.split(" ")), List.of());
    }

    private String error(String line) {
        return assertThrows(CommandException.class, () -> run(line)).getMessage();
    }

    /** A UDP datagram src:sport > dst:dport. */
    private SkBuff udp(int src, int sport, int dst, int dport) {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        skb.put(28);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 28);
        skb.setU8(nh + 9, 17);
        skb.setU32(nh + 12, src);
        skb.setU32(nh + 16, dst);
        skb.setU16(nh + 20, sport);
        skb.setU16(nh + 22, dport);
        return skb;
    }

    private boolean test(String set, SkBuff skb, int dim, int srcFlags) {
        int nh = skb.networkHeader();
        return ipset.set(set).test(skb, nh, nh + 20, 17, dim, srcFlags);
    }

    @Test
    void listShowsTheSetAsIpsetDoes() {
        run("create a hash:ip");
        run("add a 10.0.0.1");
        List<String> l = run("list a");
        assertEquals("Name: a", l.get(0));
        assertEquals("Type: hash:ip", l.get(1));
        assertEquals("Revision: 6", l.get(2));
        assertTrue(l.get(3).matches("Header: family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x[0-9a-f]{8}"), l.get(3));
        assertTrue(l.get(4).startsWith("Size in memory: "));
        assertEquals(List.of("References: 0", "Number of entries: 1", "Members:", "10.0.0.1"), l.subList(5, 9));
        run("create b bitmap:port range 1000-2000 timeout 60 counters");
        run("add b 1500 timeout 30");
        run("add b 1200");
        assertEquals(List.of("Name: b", "Type: bitmap:port", "Revision: 3", "Header: range 1000-2000 timeout 60 counters"),
                run("list b").subList(0, 4));
        assertEquals(List.of("1200 timeout 60 packets 0 bytes 0", "1500 timeout 30 packets 0 bytes 0"),
                run("list b").subList(8, 10));
        assertEquals(List.of("create b bitmap:port range 1000-2000 timeout 60 counters", "add b 1200 timeout 60 packets 0 bytes 0",
                "add b 1500 timeout 30 packets 0 bytes 0"), run("save b"));
        assertEquals(List.of("a", "b"), run("list -n"));
    }

    @Test
    void aPacketIsTestedByItsSourceOrDestinationAsTheFlagsSay() {
        run("create ips hash:ip");
        run("add ips 10.0.0.1");
        SkBuff skb = udp(0x0a000001, 1000, 0x0a000002, 53);
        assertTrue(test("ips", skb, 1, 1), "src is 10.0.0.1");
        assertFalse(test("ips", skb, 1, 0), "dst is 10.0.0.2");
        run("create svc hash:ip,port");
        run("add svc 10.0.0.2,udp:53");
        assertTrue(test("svc", skb, 2, 0b00), "dst,dst");
        assertFalse(test("svc", skb, 2, 0b10), "dst,src is 10.0.0.2 port 1000");
        assertFalse(test("svc", skb, 1, 0), "one dimension given is too few for hash:ip,port");
        run("create nets hash:net");
        run("add nets 10.0.0.0/8");
        run("add nets 192.168.1.1");
        assertTrue(test("nets", skb, 1, 1));
        assertFalse(test("nets", udp(0x0b000001, 1, 0x0b000002, 2), 1, 1));
        assertEquals(List.of("Warning: 10.9.9.9 is in set nets."), run("test nets 10.9.9.9"));
        assertEquals("10.0.0.0/9 is NOT in set nets.", error("test nets 10.0.0.0/9"));
    }

    @Test
    void countersCountWhatMatchedAndTimeoutsExpireElements() {
        run("create c hash:ip timeout 10 counters");
        run("add c 10.0.0.1");
        run("add c 10.0.0.3 timeout 0");
        SkBuff skb = udp(0x0a000001, 1000, 0x0a000002, 53);
        assertTrue(test("c", skb, 1, 1));
        assertTrue(test("c", skb, 1, 1));
        assertTrue(run("list c").contains("10.0.0.1 timeout 10 packets 2 bytes 56"));
        now[0] = 10_000_000_001L;
        assertFalse(test("c", skb, 1, 1), "expired after its 10 s");
        assertEquals(List.of("Number of entries: 1", "Members:", "10.0.0.3 timeout 0 packets 0 bytes 0"), run("list c").subList(6, 9));
    }

    @Test
    void theSetTargetAddsAndDeletesFromThePacketPath() {
        run("create seen hash:ip timeout 5");
        SkBuff skb = udp(0x0a000001, 1000, 0x0a000002, 53);
        int nh = skb.networkHeader();
        ipset.set("seen").add(skb, nh, nh + 20, 17, 1, 1, -1, false);
        assertEquals(List.of("10.0.0.1 timeout 5"), run("list seen").subList(8, 9));
        now[0] = 3_000_000_000L;
        ipset.set("seen").add(skb, nh, nh + 20, 17, 1, 1, 20, true); // --exist renews the timeout
        assertEquals(List.of("10.0.0.1 timeout 20"), run("list seen").subList(8, 9));
        ipset.set("seen").del(skb, nh, nh + 20, 17, 1, 1);
        assertEquals("Number of entries: 0", run("list seen").get(6));
    }

    @Test
    void aFullSetRefusesAndSwapExchangesContentsUnderTheNames() {
        run("create s1 hash:ip maxelem 2");
        run("add s1 1.1.1.1");
        run("add s1 1.1.1.2");
        assertEquals("ipset v7.17: Hash is full, cannot add more elements", error("add s1 1.1.1.3"));
        run("create s2 hash:ip");
        run("add s2 9.9.9.9");
        var handle = ipset.set("s1");
        run("swap s1 s2");
        assertEquals(List.of("9.9.9.9"), run("list s1").subList(8, 9));
        SkBuff skb = udp(0x09090909, 1, 0x01010101, 1);
        assertTrue(handle.test(skb, skb.networkHeader(), -1, 17, 1, 1), "a rule holding s1 sees s1's new elements");
        run("create n hash:net");
        assertEquals("ipset v7.17: The sets cannot be swapped: their type does not match", error("swap s1 n"));
        assertEquals("ipset v7.17: Sets cannot be swapped: the second set does not exist", error("swap s1 zz"));
    }

    @Test
    void aSetInUseCannotBeDestroyed() {
        run("create a hash:ip");
        ipset.references("iptables/filter", Map.of("a", 2));
        assertEquals("References: 2", run("list a").get(5));
        assertEquals("ipset v7.17: Set cannot be destroyed: it is in use by a kernel component", error("destroy a"));
        assertEquals("ipset v7.17: Set cannot be destroyed: it is in use by a kernel component", error("destroy"));
        ipset.references("iptables/filter", Map.of());
        run("destroy a");
        assertEquals(List.of(), run("list"));
    }

    @Test
    void restoreAppliesLineByLineAndStopsAtTheFirstError() {
        List<String> lines = List.of("create r hash:ip", "add r 1.1.1.1", "add r 1.1.1.1", "add r 1.1.1.2");
        CommandException e = assertThrows(CommandException.class, () -> ipset.run(List.of("restore"), lines));
        assertEquals("ipset v7.17: Error in line 3: Element cannot be added to the set: it's already added", e.getMessage());
        assertEquals(List.of("Number of entries: 1", "Members:", "1.1.1.1"), run("list r").subList(6, 9));
        ipset.run(List.of("-exist", "restore"), lines);
        assertEquals("Number of entries: 2", run("list r").get(6));
    }

    @Test
    void badInputIsRefusedInIpsetsWords() {
        run("create a hash:ip");
        run("create c hash:ip,port");
        run("create d bitmap:port range 1000-2000");
        run("add a 10.0.0.1");
        assertEquals("ipset v7.17: Element cannot be added to the set: it's already added", error("add a 10.0.0.1"));
        run("-exist add a 10.0.0.1");
        assertEquals("ipset v7.17: Element cannot be deleted from the set: it's not added", error("del a 10.0.0.9"));
        assertEquals("ipset v7.17: Set cannot be created: set with the same name already exists", error("create a hash:ip"));
        assertEquals("ipset v7.17: The set with the given name does not exist", error("list zz"));
        assertEquals("ipset v7.17: The set with the given name does not exist", error("add zz 1.2.3.4"));
        assertEquals("ipset v7.17: Syntax error: typename 'hash:foo' is unknown", error("create e hash:foo"));
        assertEquals("ipset v7.17: Element is out of the range of the set", error("add d 3000"));
        assertEquals("ipset v7.17: Syntax error: Second element is missing from 10.0.0.1.", error("add c 10.0.0.1"));
        assertEquals("ipset v7.17: Syntax error: 'abc' is invalid as number", error("add a 10.9.0.1 timeout abc"));
        assertEquals("ipset v7.17: Timeout cannot be used: set was created without timeout support", error("add a 10.9.0.1 timeout 5"));
        assertEquals("ipset v7.17: Syntax error: cannot parse 300.1.1.1: resolving to IPv4 address failed", error("add a 300.1.1.1"));
        assertEquals("ipset v7.17: Unknown argument: `foo'\n" + Ipset.HELP, error("create t hash:ip foo 1"));
        assertEquals("ipset v7.17: Missing second mandatory argument to command create\n" + Ipset.HELP, error("create t"));
        assertEquals("ipset v7.17: No command specified: unknown argument bogus\n" + Ipset.HELP, error("bogus"));
        assertEquals("ipset v7.17: Mandatory option `range' is missing\n" + Ipset.HELP, error("create bm bitmap:port"));
        assertEquals(List.of("a", "c", "d"), run("list -n"), "nothing was made by the refused lines");
    }

    @Test
    void aRangeAddsEachAddressOrTheNetworksThatCoverItAsIpsetDoes() {
        // ipset 7.17 on Linux 6.18 saved these elements for the same commands
        run("create a hash:ip");
        run("add a 10.0.0.3-10.0.0.1");
        run("create n hash:net");
        run("add n 10.0.0.1-10.0.0.9");
        List<String> saved = run("save").stream().filter(l -> l.startsWith("add ")).sorted().toList();
        assertEquals(List.of("add a 10.0.0.1", "add a 10.0.0.2", "add a 10.0.0.3", "add n 10.0.0.1", "add n 10.0.0.2/31",
                "add n 10.0.0.4/30", "add n 10.0.0.8/31"), saved);
        assertTrue(test("n", udp(0x0a000009, 1, 0x0a000002, 2), 1, 1));
        assertTrue(!test("n", udp(0x0a00000a, 1, 0x0a000002, 2), 1, 1));
        run("del n 10.0.0.1-10.0.0.9");
        assertTrue(!test("n", udp(0x0a000009, 1, 0x0a000002, 2), 1, 1));
    }

    @Test
    void rangeToCidrsCoversTheRangeExactly() {
        assertEquals(List.of("167772160/24"), Ipset.rangeToCidrs(0x0a000000L, 0x0a0000ffL).stream().map(n -> n[0] + "/" + n[1]).toList());
        assertEquals(4, Ipset.rangeToCidrs(0x0a000001L, 0x0a000009L).size());
    }

    @Test
    void aNomatchNetworkIsCutOutOfTheLargerOneAsIpsetDoes() {
        // ipset 7.17 on Linux 6.18: list "10.1.0.0/16 nomatch", test "10.1.2.3 is NOT in set n."
        run("create n hash:net");
        run("add n 10.0.0.0/8");
        run("add n 10.1.0.0/16 nomatch");
        assertTrue(run("list n").contains("10.1.0.0/16 nomatch"));
        assertTrue(run("save n").contains("add n 10.1.0.0/16 nomatch"));
        assertEquals("10.1.2.3 is NOT in set n.", error("test n 10.1.2.3"));
        assertEquals(List.of("Warning: 10.2.2.3 is in set n."), run("test n 10.2.2.3"));
        assertTrue(!test("n", udp(0x0a010203, 1, 0x0b000001, 2), 1, 1), "the packet path honours nomatch");
        assertTrue(test("n", udp(0x0a020203, 1, 0x0b000001, 2), 1, 1));
        run("create a hash:ip");
        assertTrue(error("add a 10.0.0.1 nomatch").startsWith("ipset v7.17: Unknown argument: `nomatch'"));
    }

    @Test
    void theCollectorTakesExpiredElementsWithoutAListOrAFullSet() {
        run("create t hash:ip timeout 5");
        run("add t 10.0.0.1");
        run("add t 10.0.0.2 timeout 100");
        now[0] += 6_000_000_000L;
        assertEquals(1, ipset.gc());
        assertEquals(1, ipset.set("t").data.table.count());
    }
}
