package org.modnet.netfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.modnet.api.netfilter.IpSet;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** {@code -m set} and the SET target against sets as the ipset bundle offers them (here a set of addresses). */
class SetMatchTest {
    private final FilterTable t = new FilterTable();
    private final SkBuffPool pool = new SkBuffPool(16, 512);
    private final Map<String, Addresses> sets = new HashMap<>();
    private final Map<String, Map<String, Integer>> refs = new HashMap<>();

    /** A hash:ip of one dimension. */
    static final class Addresses implements IpSet {
        final String name;
        final Set<Integer> members = new HashSet<>();

        Addresses(String name) {
            this.name = name;
        }

        private static int addr(SkBuff skb, int nh, int srcFlags) {
            return skb.getU32(nh + ((srcFlags & 1) != 0 ? 12 : 16));
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public boolean test(SkBuff skb, int nh, int th, int proto, int dim, int srcFlags) {
            return dim >= 1 && members.contains(addr(skb, nh, srcFlags));
        }

        @Override
        public void add(SkBuff skb, int nh, int th, int proto, int dim, int srcFlags, int timeout, boolean exist) {
            members.add(addr(skb, nh, srcFlags));
        }

        @Override
        public void del(SkBuff skb, int nh, int th, int proto, int dim, int srcFlags) {
            members.remove(addr(skb, nh, srcFlags));
        }
    }

    SetMatchTest() {
        sets.put("a", new Addresses("a"));
        sets.put("b", new Addresses("b"));
        t.sets = new FilterTable.SetLookup() {
            @Override
            public IpSet get(String name) {
                return sets.get(name);
            }

            @Override
            public void references(String owner, Map<String, Integer> counts) {
                refs.put(owner, counts);
            }
        };
    }

    private List<String> ipt(String line) {
        return Iptables.run(t, Restore.split(line).toArray(new String[0]));
    }

    private String error(String line) {
        return assertThrows(CommandException.class, () -> ipt(line)).getMessage();
    }

    private SkBuff udp(int src, int dst) {
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
        return skb;
    }

    private Verdict in(SkBuff skb) {
        return t.run(NfHook.LOCAL_IN, skb, null, null);
    }

    @Test
    void aSetMatchDropsWhatTheSetHoldsAndTheSetTargetFillsIt() {
        ipt("-A INPUT -m set --match-set a src -j DROP");
        ipt("-A INPUT -s 10.0.0.9 -j SET --add-set a src");
        assertEquals(Verdict.ACCEPT, in(udp(0x0a000009, 0x0a000002)), "not in a yet: SET adds it and the walk goes on");
        assertEquals(Set.of(0x0a000009), sets.get("a").members);
        assertEquals(Verdict.DROP, in(udp(0x0a000009, 0x0a000002)), "now in a");
        assertEquals(Verdict.ACCEPT, in(udp(0x0a000003, 0x0a000009)), "a's address as the destination is not src");
        ipt("-I INPUT -m set ! --match-set b dst -j SET --del-set a src");
        assertEquals(Verdict.ACCEPT, in(udp(0x0a000009, 0x0a000002)), "removed from a by the rule before the drop");
        assertEquals(1, t.chain("INPUT").rules.get(1).packets.get(), "the drop rule saw only the one packet before");
        assertEquals(Set.of(0x0a000009), sets.get("a").members, "and the last rule added it again");
        assertEquals(List.of("-P INPUT ACCEPT", "-A INPUT -m set ! --match-set b dst -j SET --del-set a src",
                "-A INPUT -m set --match-set a src -j DROP", "-A INPUT -s 10.0.0.9/32 -j SET --add-set a src"), ipt("-S INPUT"));
    }

    @Test
    void afterAnIpsetUpdateTheRulesTakeTheNewVersionsSets() {
        ipt("-A INPUT -m set --match-set a src -j DROP");
        ipt("-A INPUT -s 10.0.0.9 -j SET --add-set b src");
        sets.get("a").members.add(0x0a000005);
        assertEquals(Verdict.DROP, in(udp(0x0a000005, 0x0a000002)));
        // update ipset: the new version's sets adopted the old ones' elements (here a copy), and its service comes
        Addresses a2 = new Addresses("a");
        a2.members.addAll(sets.get("a").members);
        a2.members.add(0x0a000006); // added through the new version's ipset command
        Addresses b2 = new Addresses("b");
        Addresses oldB = sets.get("b");
        sets.put("a", a2);
        sets.put("b", b2);
        refs.clear();
        t.relinkSets();
        assertEquals(Verdict.DROP, in(udp(0x0a000006, 0x0a000002)), "the match reads the new version's set");
        assertEquals(Verdict.DROP, in(udp(0x0a000005, 0x0a000002)));
        assertEquals(Verdict.ACCEPT, in(udp(0x0a000009, 0x0a000002)));
        assertEquals(Set.of(0x0a000009), b2.members, "the SET target fills the new version's set");
        assertEquals(Set.of(), oldB.members);
        assertEquals(Map.of("a", 1, "b", 1), refs.get("iptables/filter"), "the new version learns the references");
    }

    @Test
    void eachRuleNamingASetIsAReferenceUntilItGoes() {
        ipt("-A INPUT -m set --match-set a src -m set --match-set b dst,dst -j ACCEPT");
        ipt("-A FORWARD -j SET --add-set a src --exist --timeout 10");
        assertEquals(Map.of("a", 2, "b", 1), refs.get("iptables/filter"));
        ipt("-F INPUT");
        assertEquals(Map.of("a", 1), refs.get("iptables/filter"));
        ipt("-F");
        assertEquals(Map.of(), refs.get("iptables/filter"));
    }

    @Test
    void listAndSavePrintAsIptables() {
        ipt("-A INPUT -m set --match-set a src -m set ! --match-set b dst,dst -j ACCEPT");
        ipt("-A INPUT -j SET --add-set a src --del-set b dst,dst --exist --timeout 10");
        List<String> l = ipt("-L INPUT -n");
        assertEquals("ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            match-set a src ! match-set b dst,dst", l.get(2));
        assertEquals("SET        0    --  0.0.0.0/0            0.0.0.0/0            add-set a src del-set b dst,dst exist timeout 10",
                l.get(3));
    }

    @Test
    void badSetOptionsAreRefusedInIptablesWords() {
        String v = "iptables v1.8.9 (legacy): ";
        assertEquals(v + "Set zz doesn't exist.\n\n" + Iptables.TRY, error("-A INPUT -m set --match-set zz src"));
        assertEquals(v + "You must specify `--match-set' with proper arguments\n" + Iptables.TRY, error("-A INPUT -m set -j DROP"));
        assertEquals(v + "--match-set requires two args.\n" + Iptables.TRY, error("-A INPUT -m set --match-set a"));
        assertEquals(v + "Can't be more src/dst options than 6.\n" + Iptables.TRY,
                error("-A INPUT -m set --match-set a src,dst,src,dst,src,dst,src"));
        assertEquals(v + "You must spefify (the comma separated list of) 'src' or 'dst'.\n" + Iptables.TRY,
                error("-A INPUT -m set --match-set a foo"));
        assertEquals(v + "You must specify either `--add-set' or `--del-set' or `--map-set'\n" + Iptables.TRY, error("-A INPUT -j SET"));
        assertEquals(v + "Option `--timeout' can be used with `--add-set' only\n" + Iptables.TRY,
                error("-A INPUT -j SET --del-set a src --timeout 5"));
        assertEquals(v + "Flag `--exist' can be used with `--add-set' only\n" + Iptables.TRY, error("-A INPUT -j SET --del-set a src --exist"));
        assertEquals(List.of("-P INPUT ACCEPT"), ipt("-S INPUT"));
    }
}
