package org.modnet.netfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfNat;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** -m conntrack/state on the filter table and the nat table's rules and targets. */
class IptablesNatTest {
    private final FilterTable filter = new FilterTable();
    private final FilterTable nat = new FilterTable("nat", FilterTable.NAT, FilterTable.NAT_HOOKS);
    private final SkBuffPool pool = new SkBuffPool(16, 512);

    private List<String> ipt(FilterTable t, String line) {
        return Iptables.run(t, Restore.split(line).toArray(new String[0]));
    }

    private SkBuff udp(int ctinfo) {
        SkBuff skb = pool.alloc(28, 64);
        int h = skb.put(28);
        for (int i = 0; i < 28; i++) {
            skb.setU8(h + i, 0);
        }
        skb.setU8(h, 0x45);
        skb.setU16(h + 2, 28);
        skb.setU8(h + 9, 17);
        skb.setU32(h + 12, 0x0a000001);
        skb.setU32(h + 16, 0x0a000002);
        skb.setU16(h + 20, 5000);
        skb.setU16(h + 22, 53);
        skb.resetNetworkHeader();
        if (ctinfo != SkBuff.NFCT_NONE) {
            skb.nfct(new Object(), ctinfo);
        }
        return skb;
    }

    @Test
    void statefulFirewallAcceptsRepliesAndRelatedAndDropsNewInbound() {
        ipt(filter, "-P INPUT DROP");
        ipt(filter, "-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
        int[] infos = { SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, SkBuff.IP_CT_RELATED + SkBuff.IP_CT_IS_REPLY,
                SkBuff.IP_CT_ESTABLISHED, SkBuff.IP_CT_NEW, SkBuff.NFCT_NONE };
        Verdict[] expect = { Verdict.ACCEPT, Verdict.ACCEPT, Verdict.ACCEPT, Verdict.DROP, Verdict.DROP };
        for (int i = 0; i < infos.length; i++) {
            SkBuff skb = udp(infos[i]);
            assertEquals(expect[i], filter.run(NfHook.LOCAL_IN, skb, null, null), "ctinfo " + infos[i]);
            skb.free();
        }
        assertEquals(3, filter.chain("INPUT").rules.get(0).packets.get());
    }

    @Test
    void invertedStateMatchesTheOthers() {
        ipt(filter, "-A INPUT -m state ! --state NEW -j DROP");
        SkBuff fresh = udp(SkBuff.IP_CT_NEW);
        SkBuff invalid = udp(SkBuff.NFCT_NONE);
        assertEquals(Verdict.ACCEPT, filter.run(NfHook.LOCAL_IN, fresh, null, null));
        assertEquals(Verdict.DROP, filter.run(NfHook.LOCAL_IN, invalid, null, null));
        fresh.free();
        invalid.free();
    }

    @Test
    void stateMatchesPrintAsIptablesDoes() {
        ipt(filter, "-A INPUT -m conntrack --ctstate established,related -j ACCEPT");
        ipt(filter, "-A INPUT -m state ! --state NEW");
        assertEquals(List.of("-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT",
                "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "-A INPUT -m state ! --state NEW"),
                ipt(filter, "-S"));
        List<String> l = ipt(filter, "-L INPUT -n");
        assertEquals("ACCEPT     0    --  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED", l.get(2));
        assertEquals("           0    --  0.0.0.0/0            0.0.0.0/0            ! state NEW", l.get(3));
    }

    @Test
    void badStatesAnswerInIptablesWords() {
        CommandException e = assertThrows(CommandException.class, () -> ipt(filter, "-A INPUT -m conntrack --ctstate FOO"));
        assertEquals("iptables v1.8.9 (legacy): Bad ctstate \"FOO\"\n" + Iptables.TRY, e.getMessage());
        e = assertThrows(CommandException.class, () -> ipt(filter, "-A INPUT -m conntrack"));
        assertEquals("iptables v1.8.9 (legacy): conntrack: At least one option is required\n" + Iptables.TRY, e.getMessage());
        e = assertThrows(CommandException.class, () -> ipt(filter, "-A INPUT --ctstate NEW"));
        assertEquals("iptables v1.8.9 (legacy): unknown option \"--ctstate\"\n" + Iptables.TRY, e.getMessage());
    }

    @Test
    void natTableListsItsFourChainsAndPrintsTargetsAsIptablesDoes() {
        ipt(nat, "-t nat -A POSTROUTING -o eth0 -j MASQUERADE");
        ipt(nat, "-t nat -A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.2:80");
        assertEquals(List.of("-P PREROUTING ACCEPT", "-P INPUT ACCEPT", "-P OUTPUT ACCEPT", "-P POSTROUTING ACCEPT",
                "-A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.0.0.2:80",
                "-A POSTROUTING -o eth0 -j MASQUERADE"), ipt(nat, "-t nat -S"));
        List<String> saved = Iptables.save(nat, false, java.time.ZonedDateTime.now());
        assertEquals("*nat", saved.get(1));
        assertEquals(":PREROUTING ACCEPT [0:0]", saved.get(2));
    }

    @Test
    void natTargetsInTheWrongPlaceAreRefused() {
        CommandException e = assertThrows(CommandException.class, () -> ipt(nat, "-t nat -A PREROUTING -j MASQUERADE"));
        assertEquals("iptables: Invalid argument. Run `dmesg' for more information.", e.getMessage());
        assertThrows(CommandException.class, () -> ipt(filter, "-A INPUT -j MASQUERADE"));
        e = assertThrows(CommandException.class, () -> ipt(nat, "-t nat -A PREROUTING -j DROP"));
        assertEquals("iptables v1.8.9 (legacy): \nThe \"nat\" table is not intended for filtering, the use of DROP is "
                + "therefore inhibited.\n\n\n" + Iptables.TRY, e.getMessage());
        e = assertThrows(CommandException.class, () -> ipt(nat, "-t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4:1000"));
        assertEquals("iptables v1.8.9 (legacy): Need TCP, UDP, SCTP or DCCP with port specification\n" + Iptables.TRY, e.getMessage());
        e = assertThrows(CommandException.class, () -> ipt(nat, "-t nat -A PREROUTING -j DNAT"));
        assertEquals("iptables v1.8.9 (legacy): DNAT: option \"--to-destination\" must be specified\n\n" + Iptables.TRY, e.getMessage());
        e = assertThrows(CommandException.class, () -> ipt(filter, "-t nat -A INPUT -j ACCEPT"));
        assertEquals(3, e.status());
        assertEquals(List.of(), nat.chain("PREROUTING").rules);
    }

    @Test
    void natRulesBindThroughTheNatCoreWithTheirRange() {
        ipt(nat, "-t nat -A POSTROUTING -p udp -j SNAT --to-source 1.2.3.4-1.2.3.6:1000-2000 --random");
        ipt(nat, "-t nat -A PREROUTING -p udp -j DNAT --to-destination 10.0.0.9");
        List<String> calls = new ArrayList<>();
        NfNat core = new NfNat() {
            @Override
            public Verdict setup(SkBuff skb, NfHook hook, int minAddr, int maxAddr, int minPort, int maxPort, int flags) {
                calls.add(hook + " " + Integer.toHexString(minAddr) + "-" + Integer.toHexString(maxAddr) + ":" + minPort + "-"
                        + maxPort + " " + flags);
                return Verdict.ACCEPT;
            }

            @Override
            public Verdict masquerade(SkBuff skb, NetDevice out, int minPort, int maxPort, int flags) {
                return Verdict.ACCEPT;
            }

            @Override
            public Verdict redirect(SkBuff skb, NfHook hook, NetDevice in, int minPort, int maxPort, int flags) {
                return Verdict.ACCEPT;
            }
        };
        SkBuff skb = udp(SkBuff.IP_CT_NEW);
        assertEquals(Verdict.ACCEPT, nat.run(NfHook.PRE_ROUTING, skb, null, null, core));
        assertEquals(Verdict.ACCEPT, nat.run(NfHook.POST_ROUTING, skb, null, null, core));
        skb.free();
        assertEquals(List.of("PRE_ROUTING a000009-a000009:0-0 0", "POST_ROUTING 1020304-1020306:1000-2000 1"), calls);
    }

    @Test
    void randomFullyIsForSnatAndMasqueradeOnlyAsIptablesTakesIt() {
        ipt(nat, "-t nat -A POSTROUTING -j MASQUERADE --random-fully");
        ipt(nat, "-t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4 --random --random-fully");
        ipt(nat, "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.2 --random");
        ipt(nat, "-t nat -A PREROUTING -p tcp -j REDIRECT --random");
        assertEquals(List.of("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.2 --random",
                "-A PREROUTING -p tcp -j REDIRECT --random"), ipt(nat, "-t nat -S PREROUTING").subList(1, 3));
        assertEquals(List.of("-A POSTROUTING -j MASQUERADE --random-fully",
                "-A POSTROUTING -j SNAT --to-source 1.2.3.4 --random --random-fully"), ipt(nat, "-t nat -S POSTROUTING").subList(1, 3));
        for (String refused : new String[] { "-t nat -A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.2 --random-fully",
                "-t nat -A PREROUTING -p tcp -j REDIRECT --random-fully" }) {
            CommandException e = assertThrows(CommandException.class, () -> ipt(nat, refused));
            assertEquals(2, e.status());
            assertEquals("iptables v1.8.9 (legacy): unknown option \"--random-fully\"", e.getMessage().lines().findFirst().orElseThrow());
        }
    }
}
