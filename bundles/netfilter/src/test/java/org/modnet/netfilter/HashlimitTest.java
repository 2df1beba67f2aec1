package org.modnet.netfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** {@code -m hashlimit}: a bucket per key, the table's bound, its /proc file and iptables' words. */
class HashlimitTest {
    private final FilterTable t = new FilterTable();
    private final SkBuffPool pool = new SkBuffPool(16, 512);
    private final long[] now = { 0 };

    HashlimitTest() {
        t.clock = () -> now[0];
    }

    private List<String> ipt(String line) {
        return Iptables.run(t, Restore.split(line).toArray(new String[0]));
    }

    private String error(String line) {
        return assertThrows(CommandException.class, () -> ipt(line)).getMessage();
    }

    /** A UDP datagram from src:sport to 10.0.0.2:dport. */
    private SkBuff udp(int src, int sport, int dport) {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        skb.put(28);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 28);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 17);
        skb.setU32(nh + 12, src);
        skb.setU32(nh + 16, 0x0a000002);
        skb.setU16(nh + 20, sport);
        skb.setU16(nh + 22, dport);
        return skb;
    }

    private boolean accepted(SkBuff skb) {
        return t.run(NfHook.LOCAL_IN, skb, null, null) == Verdict.ACCEPT;
    }

    @Test
    void eachSourceHasItsOwnBucket() {
        ipt("-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-mode srcip --hashlimit-name per-src -j ACCEPT");
        ipt("-P INPUT DROP");
        SkBuff a = udp(0x0a000001, 1000, 53), b = udp(0x0a000003, 1000, 53);
        int passedA = 0, passedB = 0;
        for (int ms = 0; ms < 1000; ms++) { // both flood at 1000 packets a second for a second
            now[0] = ms * 1_000_000L;
            passedA += accepted(a) ? 1 : 0;
            passedB += accepted(b) ? 1 : 0;
        }
        assertEquals(5 + 9, passedA, "the burst of 5, then one each 100 ms (at 100, 200, ... 900)");
        assertEquals(passedA, passedB, "a second source does not share the first's bucket");
        assertEquals(2, t.hashlimits.table("per-src").count());
    }

    @Test
    void withoutAModeEveryPacketSharesOneBucketAndAMaskGroupsSources() {
        ipt("-A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2 --hashlimit-name all -j ACCEPT");
        ipt("-A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 1 --hashlimit-mode srcip --hashlimit-srcmask 24 "
                + "--hashlimit-name net -j ACCEPT");
        ipt("-P INPUT DROP");
        // two from one /24 then a third: the first rule passes two, the second rule the third's network once
        assertEquals(true, accepted(udp(0x0a000001, 1, 1)));
        assertEquals(true, accepted(udp(0x0a000002, 1, 1)));
        assertEquals(true, accepted(udp(0x0a000003, 1, 1)));
        assertEquals(false, accepted(udp(0x0a000004, 1, 1)), "10.0.0.0/24 has used its one");
        assertEquals(true, accepted(udp(0x0a000104, 1, 1)), "10.0.1.0/24 has its own");
        assertEquals(List.of("1 0.0.0.0:0->0.0.0.0:0 0 274877906000000 137438953000000"), t.hashlimits.table("all").proc(),
                "one key, its two tokens spent, a second to live");
        assertEquals(2, t.hashlimits.table("net").count());
    }

    @Test
    void aboveMatchesOnlyWhatExceedsTheRate() {
        ipt("-A INPUT -p udp -m hashlimit --hashlimit-above 2/sec --hashlimit-burst 2 --hashlimit-mode srcip,dstport "
                + "--hashlimit-name flood -j DROP");
        SkBuff skb = udp(0x0a000001, 1000, 53);
        assertEquals(true, accepted(skb));
        assertEquals(true, accepted(skb));
        assertEquals(false, accepted(skb), "the third within the burst's time is above the rate");
        assertEquals(true, accepted(udp(0x0a000001, 1000, 54)), "another destination port is another key");
        now[0] = 500_000_000L;
        assertEquals(true, accepted(skb), "half a second later one token is back");
        assertEquals(1, t.chain("INPUT").rules.get(0).packets.get());
    }

    @Test
    void aFullTableDropsNewKeysAndCountsThemUntilOldOnesExpire() {
        ipt("-A INPUT -m hashlimit --hashlimit-upto 100/sec --hashlimit-mode srcip --hashlimit-name small "
                + "--hashlimit-htable-max 2 --hashlimit-htable-expire 1000 --hashlimit-htable-gcinterval 100 -j ACCEPT");
        ipt("-A INPUT -j ACCEPT");
        Hashlimit.Table small = t.hashlimits.table("small");
        assertEquals(true, accepted(udp(0x0a000001, 1, 1)));
        assertEquals(true, accepted(udp(0x0a000002, 1, 1)));
        assertEquals(false, accepted(udp(0x0a000003, 1, 1)), "no room for a third key: dropped, not let past");
        assertEquals(1, small.refused.get());
        assertEquals(0, t.chain("INPUT").rules.get(1).packets.get(), "the drop ended the walk");
        now[0] = 1_500_000_000L; // both keys expired
        assertEquals(true, accepted(udp(0x0a000003, 1, 1)));
        assertEquals(1, small.count(), "the expired keys were collected to make room");
        assertEquals(1, small.refused.get());
    }

    @Test
    void procListsEachKeyWithLinuxsCredits() {
        // cap and cost are the numbers Linux 6.18 printed for this rule; after one packet credit = cap - cost
        ipt("-A INPUT -p udp -m hashlimit --hashlimit-upto 7/min --hashlimit-burst 3 --hashlimit-mode srcip,dstip,dstport "
                + "--hashlimit-name q -j ACCEPT");
        accepted(udp(0x7f000001, 1000, 53));
        assertEquals(List.of("60 127.0.0.1:0->10.0.0.2:53 2356096180069768 3534144270104652 1178048090034884"),
                t.hashlimits.table("q").proc());
        now[0] = 1_000_000_000L; // a second gives back a second's worth of credits
        assertEquals(List.of("59 127.0.0.1:0->10.0.0.2:53 " + (2356096180069768L + 1_000_000 * 137438953L) + " 3534144270104652 "
                + "1178048090034884"), t.hashlimits.table("q").proc());
    }

    @Test
    void rulesOfOneNameShareATableThatGoesWithTheLastOfThem() {
        ipt("-A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-name shared -j ACCEPT");
        Hashlimit.Table first = t.hashlimits.table("shared");
        ipt("-A FORWARD -m hashlimit --hashlimit-upto 5/sec --hashlimit-name shared -j ACCEPT");
        assertSame(first, t.hashlimits.table("shared"));
        ipt("-F INPUT");
        assertNotNull(t.hashlimits.table("shared"), "FORWARD's rule still names it");
        ipt("-D FORWARD -m hashlimit --hashlimit-upto 5/sec --hashlimit-name shared -j ACCEPT");
        assertNull(t.hashlimits.table("shared"));
        assertEquals(List.of(), t.hashlimits.names());
    }

    @Test
    void badOptionsAreRefusedInIptablesWords() {
        String v = "iptables v1.8.9 (legacy): ";
        assertEquals(v + "hashlimit: option \"--hashlimit-name\" must be specified\n\n" + Iptables.TRY,
                error("-A INPUT -m hashlimit --hashlimit-upto 10/sec -j ACCEPT"));
        assertEquals(v + "You have to specify --hashlimit\n" + Iptables.TRY,
                error("-A INPUT -m hashlimit --hashlimit-name x -j ACCEPT"));
        assertEquals(v + "hashlimit: Bad value for \"--hashlimit-mode\" option: \"srcip,foo\"\n" + Iptables.TRY,
                error("-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name x --hashlimit-mode srcip,foo"));
        assertEquals(v + "hashlimit: option \"--hashlimit-upto\" cannot be used together with \"--hashlimit-above\".\n\n"
                + Iptables.TRY, error("-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-above 5/sec --hashlimit-name x"));
        assertEquals(v + "hashlimit: Bad value for \"--hashlimit-upto\" option: \"10/fortnight\"\n" + Iptables.TRY,
                error("-A INPUT -m hashlimit --hashlimit-upto 10/fortnight --hashlimit-name x"));
        assertEquals(v + "hashlimit: Bad value for \"--hashlimit-upto\" option: \"0/sec\"\n" + Iptables.TRY,
                error("-A INPUT -m hashlimit --hashlimit-upto 0/sec --hashlimit-name x"));
        assertEquals(v + "Rate too fast \"1000001/sec\"\n" + Iptables.TRY,
                error("-A INPUT -m hashlimit --hashlimit-upto 1000001/sec --hashlimit-name x"));
        assertEquals(v + "bad value for option \"--hashlimit-burst\", or out of range (1-1000000).\n" + Iptables.TRY,
                error("-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name x --hashlimit-burst 0"));
        assertEquals(v + "hashlimit: bad value for option \"--hashlimit-htable-size\", or out of range (0-4294967295).\n\n"
                + Iptables.TRY, error("-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name x --hashlimit-htable-size abc"));
        String inval = "iptables: Invalid argument. Run `dmesg' for more information.";
        assertEquals(inval, error("-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name x --hashlimit-srcmask 33"));
        assertEquals(inval, error("-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name x --hashlimit-htable-expire 0"));
        assertEquals(inval, error("-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-name x --hashlimit-htable-gcinterval 0"));
        assertEquals("iptables: Numerical result out of range.",
                error("-A INPUT -m hashlimit --hashlimit-upto 1/day --hashlimit-burst 100 --hashlimit-name big"));
        assertEquals(List.of("-P INPUT ACCEPT"), ipt("-S INPUT"), "nothing was added");
    }
}
