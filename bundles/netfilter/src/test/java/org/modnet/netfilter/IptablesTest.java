package org.modnet.netfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Proxy;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** iptables' parser, output (against iptables v1.8.9 legacy's own, captured in a Linux netns), matching and counters. */
class IptablesTest {
    private final FilterTable t = new FilterTable();
    private final SkBuffPool pool = new SkBuffPool(16, 512);

    private List<String> ipt(String line) {
        return Iptables.run(t, Restore.split(line).toArray(new String[0]));
    }

    private void linuxRules() {
        ipt("-N web");
        ipt("-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT");
        ipt("-A INPUT -p tcp --syn -m comment --comment \"allow ssh\" -j DROP");
        ipt("-A INPUT ! -s 10.1.2.3 -i eth0 -p udp --sport 1000:2000 -j REJECT");
        ipt("-A INPUT -p icmp --icmp-type echo-request -j web");
        ipt("-A FORWARD -p tcp -m multiport --dports 22,80 -m comment --comment ssh -g web");
        ipt("-A web -m length --length 0:100 -j LOG --log-prefix \"x: \"");
        ipt("-A web -p icmp -m icmp --icmp-type 3/3 -j RETURN");
        ipt("-A web -o eth1 -d 1.2.3.4/32 -p all -j DROP");
        ipt("-P FORWARD DROP");
        ipt("-A INPUT -p tcp -j ACCEPT");
    }

    private static final List<String> LINUX_S = List.of(
            "-P INPUT ACCEPT",
            "-P FORWARD DROP",
            "-P OUTPUT ACCEPT",
            "-N web",
            "-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT",
            "-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m comment --comment \"allow ssh\" -j DROP",
            "-A INPUT ! -s 10.1.2.3/32 -i eth0 -p udp -m udp --sport 1000:2000 -j REJECT --reject-with icmp-port-unreachable",
            "-A INPUT -p icmp -m icmp --icmp-type 8 -j web",
            "-A INPUT -p tcp -j ACCEPT",
            "-A FORWARD -p tcp -m multiport --dports 22,80 -m comment --comment ssh -g web",
            "-A web -m length --length 0:100 -j LOG --log-prefix \"x: \"",
            "-A web -p icmp -m icmp --icmp-type 3/3 -j RETURN",
            "-A web -d 1.2.3.4/32 -o eth1 -j DROP");

    @Test
    void listRulesAsLinux() {
        linuxRules();
        assertEquals(LINUX_S, ipt("-S"));
        assertEquals(List.of("-P FORWARD DROP",
                "-A FORWARD -p tcp -m multiport --dports 22,80 -m comment --comment ssh -g web"), ipt("-S FORWARD"));
    }

    @Test
    void listAsLinux() {
        linuxRules();
        assertEquals(List.of(
                "Chain INPUT (policy ACCEPT)",
                "target     prot opt source               destination         ",
                "ACCEPT     tcp  --  10.0.0.0/8           anywhere             tcp dpt:ssh",
                "DROP       tcp  --  anywhere             anywhere             tcp flags:FIN,SYN,RST,ACK/SYN /* allow ssh */",
                "REJECT     udp  -- !10.1.2.3             anywhere             udp spts:1000:2000 reject-with icmp-port-unreachable",
                "web        icmp --  anywhere             anywhere             icmp echo-request",
                "ACCEPT     tcp  --  anywhere             anywhere            ",
                "",
                "Chain FORWARD (policy DROP)",
                "target     prot opt source               destination         ",
                "web        tcp  --  anywhere             anywhere            [goto]  multiport dports ssh,http /* ssh */",
                "",
                "Chain OUTPUT (policy ACCEPT)",
                "target     prot opt source               destination         ",
                "",
                "Chain web (2 references)",
                "target     prot opt source               destination         ",
                "LOG        all  --  anywhere             anywhere             length 0:100 LOG level warn prefix \"x: \"",
                "RETURN     icmp --  anywhere             anywhere             icmp port-unreachable",
                "DROP       all  --  anywhere             1.2.3.4             "), ipt("-L"));
        assertEquals(List.of(
                "Chain web (2 references)",
                "num   pkts bytes target     prot opt in     out     source               destination         ",
                "1        0     0 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            length 0:100 LOG flags 0 level 4 prefix \"x: \"",
                "2        0     0 RETURN     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 3 code 3",
                "3        0     0 DROP       0    --  *      eth1    0.0.0.0/0            1.2.3.4             "),
                ipt("-L web -n -v --line-numbers"));
        assertEquals(List.of(
                "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)",
                " pkts bytes target     prot opt in     out     source               destination         ",
                "    0     0 ACCEPT     tcp  --  any    any     10.0.0.0/8           anywhere             tcp dpt:ssh"),
                ipt("-L INPUT -v").subList(0, 3));
        assertEquals(List.of(
                "Chain FORWARD (policy DROP 0 packets, 0 bytes)",
                "    pkts      bytes target     prot opt in     out     source               destination         ",
                "       0        0 web        6    --  *      *       0.0.0.0/0            0.0.0.0/0           [goto]  multiport dports 22,80 /* ssh */"),
                ipt("-nvxL FORWARD"));
    }

    @Test
    void saveAndRestoreRoundTrip() {
        linuxRules();
        ZonedDateTime when = ZonedDateTime.of(2026, 12, 5, 1, 58, 8, 0, ZoneOffset.UTC);
        List<String> saved = Iptables.save(t, false, when);
        List<String> expect = new ArrayList<>();
        expect.add("# Generated by iptables-save v1.8.9 on Sat Dec  5 01:58:08 2026");
        expect.add("*filter");
        expect.add(":INPUT ACCEPT [0:0]");
        expect.add(":FORWARD DROP [0:0]");
        expect.add(":OUTPUT ACCEPT [0:0]");
        expect.add(":web - [0:0]");
        expect.addAll(LINUX_S.subList(4, LINUX_S.size()));
        expect.add("COMMIT");
        expect.add("# Completed on Sat Dec  5 01:58:08 2026");
        assertEquals(expect, saved);

        FilterTable other = new FilterTable();
        Iptables.run(other, "-N", "stale");
        Iptables.restore(other, saved, false);
        assertEquals(saved, Iptables.save(other, false, when));

        // --noflush keeps what is there and adds
        Iptables.restore(other, List.of("*filter", "-A OUTPUT -p udp -j DROP", "COMMIT"), true);
        assertEquals("-A OUTPUT -p udp -j DROP", Iptables.run(other, "-S", "OUTPUT").get(1));
        assertEquals(LINUX_S.size() + 1, Iptables.run(other, "-S").size());
    }

    @Test
    void restoreIsAllOrNothing() {
        linuxRules();
        CommandException e = assertThrows(CommandException.class, () -> Iptables.restore(t,
                List.of("*filter", ":INPUT DROP [0:0]", "-A INPUT -j ACCEPT", "-A INPUT -j nochain", "COMMIT"), false));
        assertEquals("iptables-restore: line 4 failed", e.getMessage());
        assertEquals(LINUX_S, ipt("-S"));
    }

    private void fails(String line, String msg, int status) {
        List<String> before = ipt("-S");
        CommandException e = assertThrows(CommandException.class, () -> ipt(line));
        assertEquals(msg, e.getMessage());
        assertEquals(status, e.status());
        assertEquals(before, ipt("-S"));
    }

    @Test
    void errorsInIptablesWords() {
        linuxRules();
        String v = "iptables v1.8.9 (legacy): ";
        String tr = "Try `iptables -h' or 'iptables --help' for more information.";
        fails("-D INPUT -p udp -j DROP", "iptables: Bad rule (does a matching rule exist in that chain?).", 1);
        fails("-A nochain -j DROP", "iptables: No chain/target/match by that name.", 1);
        fails("-X nochain", "iptables: No chain/target/match by that name.", 1);
        fails("-A INPUT --bogus", v + "unknown option \"--bogus\"\n" + tr, 2);
        fails("-D INPUT 9", "iptables: Index of deletion too big.", 1);
        fails("-X web", "iptables: Too many links.", 1);
        fails("-N web", "iptables: Chain already exists.", 1);
        fails("-A INPUT -j nochain", v + "Couldn't load target `nochain':No such file or directory\n\n" + tr, 2);
        fails("-P web DROP", "iptables: Bad built-in chain name.", 1);
        fails("-C INPUT -p udp -j ACCEPT", "iptables: Bad rule (does a matching rule exist in that chain?).", 1);
        fails("-A INPUT -p tcp --dport 99999 -j ACCEPT", v + "invalid port/service `99999' specified\n" + tr, 2);
        fails("-A INPUT -p foo", v + "unknown protocol \"foo\" specified\n" + tr, 2);
        fails("-R INPUT 9 -j DROP", "iptables: Index of replacement too big.", 1);
        fails("-I INPUT 9 -j DROP", "iptables: Index of insertion too big.", 1);
        fails("-A OUTPUT -i lo -j DROP", v + "Can't use -i with OUTPUT\n\n" + tr, 2);
        fails("-A web -j web", "iptables: Too many levels of symbolic links.", 1);
        fails("-A INPUT -j REJECT --reject-with tcp-reset", "iptables: Invalid argument. Run `dmesg' for more information.", 1);
        ipt("-C INPUT -p tcp -j ACCEPT"); // exists: no error
    }

    @Test
    void editCommands() {
        linuxRules();
        ipt("-D INPUT 5");
        ipt("-D INPUT -p icmp -m icmp --icmp-type 8 -j web");
        ipt("-I INPUT 2 -p udp -j DROP");
        ipt("-R INPUT 1 -p tcp --dport 23 -j DROP");
        assertEquals(List.of("-P INPUT ACCEPT", "-A INPUT -p tcp -m tcp --dport 23 -j DROP",
                "-A INPUT -p udp -j DROP",
                "-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m comment --comment \"allow ssh\" -j DROP",
                "-A INPUT ! -s 10.1.2.3/32 -i eth0 -p udp -m udp --sport 1000:2000 -j REJECT --reject-with icmp-port-unreachable"),
                ipt("-S INPUT"));
        ipt("-E web web2");
        assertEquals("-A FORWARD -p tcp -m multiport --dports 22,80 -m comment --comment ssh -g web2", ipt("-S FORWARD").get(1));
        ipt("-F FORWARD");
        ipt("-F web2");
        ipt("-X web2");
        ipt("-F");
        ipt("-P FORWARD ACCEPT");
        assertEquals(List.of("-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"), ipt("-S"));
    }

    // ------------------------------------------------------------------ matching and counters

    private static NetDevice dev(String name) {
        return (NetDevice) Proxy.newProxyInstance(NetDevice.class.getClassLoader(), new Class<?>[] { NetDevice.class },
                (p, m, a) -> m.getName().equals("name") ? name : m.getName().equals("hashCode") ? 1 : null);
    }

    /** An IPv4 packet: proto, addresses, ports (or ICMP type/code), TCP flags. */
    private SkBuff packet(int proto, String src, String dst, int a, int b, int flags) {
        int l4 = proto == 6 ? 20 : 8;
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        int off = skb.put(20 + l4 + 10);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 20 + l4 + 10);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, proto);
        skb.setU32(nh + 12, Iptables.address(src)[0]);
        skb.setU32(nh + 16, Iptables.address(dst)[0]);
        if (proto == 1) {
            skb.setU8(nh + 20, a);
            skb.setU8(nh + 21, b);
        } else {
            skb.setU16(nh + 20, a);
            skb.setU16(nh + 22, b);
            if (proto == 6) {
                skb.setU8(nh + 32, 0x50);
                skb.setU8(nh + 33, flags);
            }
        }
        assertEquals(skb.data(), nh + 0 * off);
        return skb;
    }

    @Test
    void rulesMatchAndCount() {
        NetDevice eth0 = dev("eth0"), veth1 = dev("veth1");
        ipt("-N ssh");
        ipt("-A INPUT -i eth0 -p tcp --dport 22 -j ssh");
        ipt("-A ssh -s 10.0.0.0/8 -j ACCEPT");
        ipt("-A ssh -j DROP");
        ipt("-A INPUT -p udp -m multiport --dports 53,5000:5010 -j DROP");
        ipt("-A INPUT -p icmp --icmp-type echo-request -m length --length 0:100 -j ACCEPT");
        ipt("-A INPUT -p icmp -j DROP");
        ipt("-A INPUT -i veth+ -p tcp --syn -j DROP");
        ipt("-A FORWARD ! -d 192.168.0.0/16 -j DROP");
        ipt("-P INPUT DROP");

        assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_IN, packet(6, "10.1.1.1", "1.1.1.1", 999, 22, 0x02), eth0, null));
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, packet(6, "11.1.1.1", "1.1.1.1", 999, 22, 0x02), eth0, null));
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, packet(17, "11.1.1.1", "1.1.1.1", 999, 5005, 0), eth0, null));
        assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_IN, packet(1, "11.1.1.1", "1.1.1.1", 8, 0, 0), eth0, null));
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, packet(1, "11.1.1.1", "1.1.1.1", 0, 0, 0), eth0, null));
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, packet(6, "11.1.1.1", "1.1.1.1", 999, 80, 0x02), veth1, null));
        // ACK to port 80 on veth1: no rule matches, the DROP policy counts it
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, packet(6, "11.1.1.1", "1.1.1.1", 999, 80, 0x10), veth1, null));
        assertEquals(Verdict.ACCEPT, t.run(NfHook.FORWARD, packet(17, "1.1.1.1", "192.168.3.3", 1, 2, 0), eth0, veth1));
        assertEquals(Verdict.DROP, t.run(NfHook.FORWARD, packet(17, "1.1.1.1", "192.169.3.3", 1, 2, 0), eth0, veth1));
        assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_OUT, packet(17, "1.1.1.1", "192.169.3.3", 1, 2, 0), null, eth0));

        assertEquals(List.of(
                "Chain INPUT (policy DROP 1 packets, 50 bytes)",
                "    pkts      bytes target     prot opt in     out     source               destination         ",
                "       2      100 ssh        6    --  eth0   *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22",
                "       1       38 DROP       17   --  *      *       0.0.0.0/0            0.0.0.0/0            multiport dports 53,5000:5010",
                "       1       38 ACCEPT     1    --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8 length 0:100",
                "       1       38 DROP       1    --  *      *       0.0.0.0/0            0.0.0.0/0           ",
                "       1       50 DROP       6    --  veth+  *       0.0.0.0/0            0.0.0.0/0            tcp flags:0x17/0x02"),
                ipt("-L INPUT -n -v -x"));
        assertEquals(List.of("-P INPUT DROP", "-N ssh", "-A ssh -s 10.0.0.0/8 -j ACCEPT", "-A ssh -j DROP"),
                List.of(ipt("-S").get(0), ipt("-S").get(3), ipt("-S").get(10), ipt("-S").get(11)));
        assertEquals("       1       50 ACCEPT     0    --  *      *       10.0.0.0/8           0.0.0.0/0           ",
                ipt("-L ssh -n -v -x").get(2));
        assertEquals("       1       38 DROP       0    --  *      *       0.0.0.0/0           !192.168.0.0/16      ",
                ipt("-L FORWARD -n -v -x").get(2));
        ipt("-Z");
        assertEquals("Chain INPUT (policy DROP 0 packets, 0 bytes)", ipt("-L INPUT -n -v").get(0));
        assertEquals("    0     0 ssh        6    --  eth0   *       0.0.0.0/0            0.0.0.0/0            tcp dpt:22",
                ipt("-L INPUT -n -v").get(2));
    }

    @Test
    void gotoReturnsToTheCaller() {
        ipt("-N a");
        ipt("-N b");
        ipt("-A INPUT -j a");
        ipt("-A INPUT -p udp -j DROP");
        ipt("-A a -g b");
        ipt("-A a -j ACCEPT"); // skipped: b's RETURN goes back to INPUT, not to a
        ipt("-A b -j RETURN");
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, packet(17, "1.1.1.1", "2.2.2.2", 1, 2, 0), dev("eth0"), null));
        ipt("-D a 1");
        ipt("-I a -j b");
        assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_IN, packet(17, "1.1.1.1", "2.2.2.2", 1, 2, 0), dev("eth0"), null));
    }

    @Test
    void rejectSendsThePortUnreachable() {
        int[] code = { -1 };
        t.rejecter = (skb, c) -> code[0] = c;
        ipt("-A INPUT -p udp -j REJECT");
        ipt("-A INPUT -p tcp -j REJECT --reject-with icmp-admin-prohibited");
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, packet(17, "1.1.1.1", "2.2.2.2", 1, 2, 0), dev("eth0"), null));
        assertEquals(3, code[0]);
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, packet(6, "1.1.1.1", "2.2.2.2", 1, 2, 2), dev("eth0"), null));
        assertEquals(13, code[0]);

        int[] resets = { 0 };
        t.rejecter = new FilterTable.Rejecter() {
            @Override
            public void reject(SkBuff skb, int c) {
                code[0] = c;
            }

            @Override
            public void reset(SkBuff skb, int nh, int th) {
                resets[0]++;
                assertEquals(2, skb.getU16(th + 2));
            }
        };
        ipt("-I INPUT -p tcp -j REJECT --reject-with tcp-rst");
        assertEquals("-A INPUT -p tcp -j REJECT --reject-with tcp-reset", ipt("-S INPUT").get(1));
        code[0] = -1;
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, packet(6, "1.1.1.1", "2.2.2.2", 1, 2, 2), dev("eth0"), null));
        assertEquals(1, resets[0]);
        assertEquals(-1, code[0]);
    }

    @Test
    void logWritesTheKernelsLine() {
        List<String> lines = new ArrayList<>();
        t.log = lines::add;
        ipt("-A INPUT -p icmp -j LOG --log-prefix \"ping: \"");
        SkBuff skb = packet(1, "10.0.0.1", "10.0.0.2", 8, 0, 0);
        skb.setU16(skb.networkHeader() + 4, 4321);
        skb.setU16(skb.networkHeader() + 24, 7);
        skb.setU16(skb.networkHeader() + 26, 1);
        assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_IN, skb, dev("eth0"), null));
        assertEquals(List.of("ping: IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=38 TOS=0x00 PREC=0x00 TTL=64 ID=4321 "
                + "PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1"), lines);
    }

    @Test
    void aRulesetReplacedUnderTrafficIsSeenWholeOrNotAtAll() throws Exception {
        // A: udp -> chain a (ACCEPT); B: two more chains sort before b, so every chain index moves,
        // udp -> chain b (DROP). tcp is accepted by both, so a drop of tcp or an exception is a
        // packet that saw part of one ruleset and part of the other.
        List<String> a = List.of("*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                ":a - [0:0]", "-A INPUT -p udp -j a", "-A INPUT -p tcp -j ACCEPT", "-A INPUT -j DROP", "-A a -j ACCEPT", "COMMIT");
        List<String> b = List.of("*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
                ":_0 - [0:0]", ":_1 - [0:0]", ":b - [0:0]", "-A INPUT -p udp -j b", "-A INPUT -p tcp -g _1",
                "-A _1 -j ACCEPT", "-A _0 -j DROP", "-A b -j DROP", "COMMIT");
        Iptables.restore(t, a, false);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        int[] swaps = { 0 };
        Thread writer = new Thread(() -> {
            while (!stop.get()) {
                Iptables.restore(t, (swaps[0]++ & 1) == 0 ? b : a, false);
            }
        });
        writer.start();
        SkBuff udp = packet(17, "1.1.1.1", "2.2.2.2", 1, 2, 0);
        SkBuff tcp = packet(6, "1.1.1.1", "2.2.2.2", 1, 2, 0x10);
        NetDevice eth0 = dev("eth0");
        int accepted = 0, dropped = 0;
        try {
            for (int i = 0; i < 200_000; i++) {
                assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_IN, tcp, eth0, null));
                if (t.run(NfHook.LOCAL_IN, udp, eth0, null) == Verdict.ACCEPT) {
                    accepted++;
                } else {
                    dropped++;
                }
            }
        } finally {
            stop.set(true);
            writer.join();
        }
        assertEquals(200_000, accepted + dropped);
        org.junit.jupiter.api.Assertions.assertTrue(swaps[0] > 10, "replaced " + swaps[0] + " times");
    }

    @Test
    void everyNamespaceHasItsOwnTableAndLosesItWhenItGoes() {
        IptablesCommand cmd = new IptablesCommand(null, null);
        org.modnet.api.net.NetNamespace one = (org.modnet.api.net.NetNamespace) Proxy.newProxyInstance(
                NetDevice.class.getClassLoader(), new Class<?>[] { org.modnet.api.net.NetNamespace.class },
                (p, m, a) -> m.getName().equals("hashCode") ? 1 : m.getName().equals("equals") ? p == a[0] : null);
        org.modnet.api.net.NetNamespace two = (org.modnet.api.net.NetNamespace) Proxy.newProxyInstance(
                NetDevice.class.getClassLoader(), new Class<?>[] { org.modnet.api.net.NetNamespace.class },
                (p, m, a) -> m.getName().equals("hashCode") ? 2 : m.getName().equals("equals") ? p == a[0] : null);
        cmd.run(one, "-A", "INPUT", "-p", "udp", "-j", "DROP");
        assertEquals(List.of("-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"), cmd.run(two, "-S"));
        SkBuff udp = packet(17, "1.1.1.1", "2.2.2.2", 1, 2, 0);
        assertEquals(Verdict.DROP, cmd.hook(udp, NfHook.LOCAL_IN, one, dev("eth0"), null));
        assertEquals(Verdict.ACCEPT, cmd.hook(udp, NfHook.LOCAL_IN, two, dev("eth0"), null));
        assertEquals(2, cmd.tables());
        cmd.exit(one);
        assertEquals(1, cmd.tables());
        assertEquals(Verdict.ACCEPT, cmd.hook(udp, NfHook.LOCAL_IN, one, dev("eth0"), null));
    }

    @Test
    void callDepthIsCheckedOncePerChainAndBounded() {
        // 40 chains, each calling the next three times: 3^39 paths, each chain checked once
        for (int i = 0; i < 40; i++) {
            ipt("-N c" + i);
        }
        for (int i = 0; i < 39; i++) {
            for (int k = 0; k < 3; k++) {
                ipt("-A c" + i + " -j c" + (i + 1));
            }
        }
        ipt("-A c39 -j ACCEPT");
        ipt("-A INPUT -j c0");
        assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_IN, packet(17, "1.1.1.1", "2.2.2.2", 1, 2, 0), dev("eth0"), null));
        // a chain of calls deeper than 64 is refused, as a loop is, and nothing changes
        FilterTable deep = new FilterTable();
        Iptables.run(deep, "-N", "d0");
        Iptables.run(deep, "-A", "INPUT", "-j", "d0");
        int refusedAt = -1;
        for (int i = 1; i < 80 && refusedAt < 0; i++) {
            Iptables.run(deep, "-N", "d" + i);
            try {
                Iptables.run(deep, "-A", "d" + (i - 1), "-j", "d" + i);
            } catch (CommandException e) {
                assertEquals("iptables: Too many levels of symbolic links.", e.getMessage());
                refusedAt = i;
            }
        }
        assertEquals(63, refusedAt); // INPUT and d0..d62: 64 chains on the call stack, the packet path's bound
        assertEquals(List.of("-N d62"), Iptables.run(deep, "-S", "d62")); // the refused rule is not there
    }

    @Test
    void restoreWithCountersSetsRuleAndPolicyCountsAndWithoutThemLeavesThemAtZero() {
        List<String> in = List.of("*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [7:420]", ":OUTPUT ACCEPT [0:0]",
                "[5:300] -A FORWARD -p udp -j ACCEPT", "COMMIT");
        Iptables.restore(t, in, false);
        assertEquals(List.of("Chain FORWARD (policy DROP 0 packets, 0 bytes)"), ipt("-L FORWARD -v").subList(0, 1));
        Iptables.restore(name -> name.equals("filter") ? t : null, in, false, true);
        List<String> saved = Iptables.save(t, true, ZonedDateTime.now(ZoneOffset.UTC));
        assertEquals(":FORWARD DROP [7:420]", saved.get(3));
        assertEquals("[5:300] -A FORWARD -p udp -j ACCEPT", saved.get(5));
        CommandException e = assertThrows(CommandException.class, () -> Iptables.restore(name -> t,
                List.of("*filter", "[5:x] -A INPUT -j ACCEPT", "COMMIT"), false, true));
        assertEquals("iptables-restore: Bad parameter: [5:x] -A INPUT -j ACCEPT", e.getMessage());
    }

    /** {@link #packet} as a fragment: the MF bit and the offset (in 8-byte units) set, the header checksum ignored. */
    private SkBuff fragment(int offset, boolean more) {
        SkBuff skb = packet(17, "1.1.1.1", "2.2.2.2", 1, 53, 0);
        skb.setU16(skb.networkHeader() + 6, (more ? 0x2000 : 0) | offset);
        return skb;
    }

    @Test
    void fragmentFlagMatchesSecondAndLaterFragmentsAndItsInverseTheRest() {
        ipt("-A INPUT ! -f -j ACCEPT");
        ipt("-A INPUT -f -j DROP");
        assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_IN, packet(17, "1.1.1.1", "2.2.2.2", 1, 53, 0), dev("eth0"), null));
        assertEquals(Verdict.ACCEPT, t.run(NfHook.LOCAL_IN, fragment(0, true), dev("eth0"), null), "a first fragment is not -f");
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, fragment(185, true), dev("eth0"), null));
        assertEquals(Verdict.DROP, t.run(NfHook.LOCAL_IN, fragment(370, false), dev("eth0"), null), "the last one too");
        // -S -v: the counters as iptables-legacy prints them, before the target
        assertEquals(List.of("-P INPUT ACCEPT -c 0 0", "-P FORWARD ACCEPT -c 0 0", "-P OUTPUT ACCEPT -c 0 0",
                "-A INPUT ! -f -c 2 76 -j ACCEPT", "-A INPUT -f -c 2 76 -j DROP"), ipt("-S -v"));
        assertEquals(List.of("Chain INPUT (policy ACCEPT)", "target     prot opt source               destination         ",
                "ACCEPT     0    !f  0.0.0.0/0            0.0.0.0/0           ",
                "DROP       0    -f  0.0.0.0/0            0.0.0.0/0           "), ipt("-L INPUT -n"));
        CommandException e = assertThrows(CommandException.class, () -> ipt("-A INPUT -f -f -j DROP"));
        assertEquals(2, e.status());
        assertEquals("iptables v1.8.9 (legacy): multiple -f flags not allowed", e.getMessage().lines().findFirst().orElseThrow());
        ipt("-D INPUT -f -j DROP");
        assertEquals(List.of("-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT", "-A INPUT ! -f -j ACCEPT"), ipt("-S"));
    }

    @Test
    void setCountersGivesARuleOrAPolicyItsCounts() {
        ipt("-A INPUT -c 5 100 -p tcp -j ACCEPT");
        ipt("-I INPUT -p udp --set-counters 7 300 -j DROP");
        ipt("-P INPUT DROP -c 3 4");
        assertEquals(List.of("-P INPUT DROP -c 3 4", "-A INPUT -p udp -c 7 300 -j DROP", "-A INPUT -p tcp -c 5 100 -j ACCEPT"),
                ipt("-S INPUT -v"));
        assertEquals("Chain INPUT (policy DROP 3 packets, 4 bytes)", ipt("-L INPUT -n -v").get(0));
        CommandException e = assertThrows(CommandException.class, () -> ipt("-A INPUT -c 5 -j DROP"));
        assertEquals("iptables v1.8.9 (legacy): -c requires packet and byte counter", e.getMessage().lines().findFirst().orElseThrow());
        e = assertThrows(CommandException.class, () -> ipt("-A INPUT -c x 5 -j DROP"));
        assertEquals("iptables v1.8.9 (legacy): -c packet counter not numeric", e.getMessage().lines().findFirst().orElseThrow());
        assertEquals(2, e.status());
    }

    @Test
    void listAndListRulesTakeARuleNumber() {
        ipt("-A INPUT -p tcp -j ACCEPT");
        ipt("-A INPUT -p udp -c 9 9 -j DROP");
        assertEquals(List.of("-A INPUT -p udp -c 9 9 -j DROP"), ipt("-S INPUT 2 -v"));
        assertEquals(List.of("ACCEPT     tcp  --  anywhere             anywhere            "), ipt("-L INPUT 1"));
        assertEquals(List.of(), ipt("-S INPUT 99"), "no such rule: nothing, as iptables-legacy prints");
        CommandException e = assertThrows(CommandException.class, () -> ipt("-S INPUT 0"));
        assertEquals("iptables v1.8.9 (legacy): Invalid rule number `0'", e.getMessage().lines().findFirst().orElseThrow());
        assertEquals(2, e.status());
    }
}
