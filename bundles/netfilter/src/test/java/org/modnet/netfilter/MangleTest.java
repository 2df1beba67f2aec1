package org.modnet.netfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.reflect.Proxy;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.inet.InetChecksum;
import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfConnMark;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** The mangle and raw tables: MARK, CONNMARK, NOTRACK/CT, TCPMSS, -m mark/connmark/limit, in iptables' words. */
class MangleTest {
    private final FilterTable mangle = new FilterTable("mangle", FilterTable.MANGLE, FilterTable.MANGLE_HOOKS);
    private final FilterTable raw = new FilterTable("raw", FilterTable.RAW, FilterTable.RAW_HOOKS);
    private final FilterTable filter = new FilterTable();
    private final SkBuffPool pool = new SkBuffPool(16, 512);

    private static List<String> ipt(FilterTable t, String line) {
        return Iptables.run(t, Restore.split(line).toArray(new String[0]));
    }

    private static String error(FilterTable t, String line) {
        return assertThrows(CommandException.class, () -> ipt(t, line)).getMessage();
    }

    private static NetDevice dev(String name, int mtu) {
        return (NetDevice) Proxy.newProxyInstance(NetDevice.class.getClassLoader(), new Class<?>[] { NetDevice.class },
                (p, m, a) -> switch (m.getName()) {
                    case "name" -> name;
                    case "mtu" -> mtu;
                    case "hashCode" -> 1;
                    default -> null;
                });
    }

    /** A connection as conntrack's entries offer it: only its mark. */
    private static final class Conn implements NfConnMark {
        int mark;

        @Override
        public int mark() {
            return mark;
        }

        @Override
        public void mark(int m) {
            mark = m;
        }
    }

    /** An IPv4 UDP datagram 10.0.0.1:1000 > 10.0.0.2:2000. */
    private SkBuff udp() {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        skb.put(28);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 28);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 17);
        skb.setU32(nh + 12, 0x0a000001);
        skb.setU32(nh + 16, 0x0a000002);
        skb.setU16(nh + 20, 1000);
        skb.setU16(nh + 22, 2000);
        return skb;
    }

    /** A TCP SYN 10.0.0.1:1000 > 10.0.0.2:80 with options mss, nop, nop, sackOK, and a correct checksum. */
    private SkBuff syn(int mss) {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        int tl = 28;
        skb.put(20 + tl);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 20 + tl);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 6);
        skb.setU32(nh + 12, 0x0a000001);
        skb.setU32(nh + 16, 0x0a000002);
        int th = nh + 20;
        skb.setU16(th, 1000);
        skb.setU16(th + 2, 80);
        skb.setU32(th + 4, 12345);
        skb.setU8(th + 12, (tl / 4) << 4);
        skb.setU8(th + 13, 0x02);
        skb.setU16(th + 14, 64240);
        skb.setU8(th + 20, 2);
        skb.setU8(th + 21, 4);
        skb.setU16(th + 22, mss);
        skb.setU8(th + 24, 1);
        skb.setU8(th + 25, 1);
        skb.setU8(th + 26, 4);
        skb.setU8(th + 27, 2);
        skb.setU16(th + 16, tcpChecksum(skb));
        return skb;
    }

    /** The TCP checksum the segment should carry, computed whole (its checksum field counted as 0). */
    private static int tcpChecksum(SkBuff skb) {
        int nh = skb.networkHeader();
        int th = nh + 20;
        int len = skb.getU16(nh + 2) - 20;
        int saved = skb.getU16(th + 16);
        skb.setU16(th + 16, 0);
        int s = skb.getU32(nh + 12), d = skb.getU32(nh + 16);
        int pseudo = (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + 6 + len;
        int c = ~InetChecksum.sum(skb, th, len, pseudo) & 0xffff;
        skb.setU16(th + 16, saved);
        return c;
    }

    private static int mss(SkBuff skb) {
        return skb.getU16(skb.networkHeader() + 42);
    }

    // ------------------------------------------------------------------ MARK and -m mark

    @Test
    void markSetsTheMarkUnderItsMaskAndMarkMatchSeesIt() {
        ipt(mangle, "-t mangle -A PREROUTING -j MARK --set-mark 0x10/0xff");
        ipt(mangle, "-t mangle -A PREROUTING -m mark --mark 0x110 -j DROP");
        SkBuff skb = udp();
        skb.mark(0x1ff);
        assertEquals(Verdict.DROP, mangle.run(NfHook.PRE_ROUTING, skb, null, null));
        assertEquals(0x110, skb.mark());
        SkBuff other = udp();
        other.mark(0x2000);
        assertEquals(Verdict.ACCEPT, mangle.run(NfHook.PRE_ROUTING, other, null, null));
        assertEquals(0x2010, other.mark());
    }

    @Test
    void everyMarkFormIsOneXmarkPairAsLinuxSavesIt() {
        for (String r : new String[] { "--set-mark 1", "--set-mark 0x10/0xff", "--set-xmark 0x10/0xff", "--and-mark 0xf",
                "--or-mark 0x4", "--xor-mark 0x4" }) {
            ipt(mangle, "-t mangle -A PREROUTING -j MARK " + r);
        }
        assertEquals(List.of("-P PREROUTING ACCEPT",
                "-A PREROUTING -j MARK --set-xmark 0x1/0xffffffff",
                "-A PREROUTING -j MARK --set-xmark 0x10/0xff",
                "-A PREROUTING -j MARK --set-xmark 0x10/0xff",
                "-A PREROUTING -j MARK --set-xmark 0x0/0xfffffff0",
                "-A PREROUTING -j MARK --set-xmark 0x4/0x4",
                "-A PREROUTING -j MARK --set-xmark 0x4/0x0"), ipt(mangle, "-t mangle -S PREROUTING"));
        List<String> l = ipt(mangle, "-t mangle -L PREROUTING");
        assertEquals("MARK       all  --  anywhere             anywhere             MARK set 0x1", l.get(2));
        assertEquals("MARK       all  --  anywhere             anywhere             MARK and 0xf", l.get(5));
        assertEquals("MARK       all  --  anywhere             anywhere             MARK xor 0x4", l.get(7));
        SkBuff skb = udp();
        skb.mark(0xff);
        mangle.run(NfHook.PRE_ROUTING, skb, null, null);
        // set 1, then 0x10 twice under 0xff, and 0xf, or 0x4, xor 0x4
        assertEquals(0, skb.mark());
    }

    @Test
    void markErrorsAreIptablesOwn() {
        assertEquals("iptables v1.8.9 (legacy): MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required\n"
                + Iptables.TRY, error(mangle, "-t mangle -A PREROUTING -j MARK"));
        assertEquals("iptables v1.8.9 (legacy): MARK: bad integer value for option \"--set-mark\", or out of range.\n\n"
                + Iptables.TRY, error(mangle, "-t mangle -A PREROUTING -j MARK --set-mark foo"));
        assertEquals("iptables v1.8.9 (legacy): MARK: option \"--set-mark\" cannot be used together with \"--and-mark\".\n\n"
                + Iptables.TRY, error(mangle, "-t mangle -A PREROUTING -j MARK --set-mark 1 --and-mark 2"));
        assertEquals("iptables v1.8.9 (legacy): MARK: trailing garbage after value for option \"--set-mark\".\n\n"
                + Iptables.TRY, error(mangle, "-t mangle -A PREROUTING -j MARK --set-mark 0x1/0x2/3"));
        assertEquals("iptables v1.8.9 (legacy): mark: option \"--mark\" must be specified\n\n" + Iptables.TRY,
                error(mangle, "-t mangle -A INPUT -m mark -j ACCEPT"));
        assertEquals("iptables v1.8.9 (legacy): mark: option \"--mark\" can only be used once.\n\n" + Iptables.TRY,
                error(mangle, "-t mangle -A INPUT -m mark --mark 1 ! --mark 2"));
        assertEquals(List.of("-P PREROUTING ACCEPT"), ipt(mangle, "-t mangle -S PREROUTING"));
    }

    // ------------------------------------------------------------------ CONNMARK and -m connmark

    @Test
    void connmarkSavesAndRestoresTheMarkThroughTheConnection() {
        ipt(mangle, "-t mangle -A PREROUTING -m connmark --mark 0 -j MARK --set-mark 7");
        ipt(mangle, "-t mangle -A PREROUTING -j CONNMARK --save-mark");
        ipt(mangle, "-t mangle -A OUTPUT -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xf");
        Conn ct = new Conn();
        SkBuff first = udp();
        first.nfct(ct, SkBuff.IP_CT_NEW);
        mangle.run(NfHook.PRE_ROUTING, first, null, null);
        assertEquals(7, ct.mark);
        ct.mark = 0x3f;
        SkBuff reply = udp();
        reply.nfct(ct, SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY);
        reply.mark(0x1234);
        mangle.run(NfHook.LOCAL_OUT, reply, null, null);
        // (mark & ~nfmask) ^ (ctmark & ctmask)
        assertEquals(0x1200 | 0xf, reply.mark());
        SkBuff untracked = udp();
        untracked.mark(5);
        mangle.run(NfHook.LOCAL_OUT, untracked, null, null);
        assertEquals(5, untracked.mark(), "no connection: nothing to restore");
    }

    @Test
    void connmarkSetChangesTheConnectionsMarkAndPrintsAsLinux() {
        ipt(mangle, "-t mangle -A PREROUTING -j CONNMARK --set-mark 5/0xf");
        ipt(mangle, "-t mangle -A INPUT -m connmark ! --mark 5/0xfff -j DROP");
        Conn ct = new Conn();
        ct.mark = 0x100;
        SkBuff skb = udp();
        skb.nfct(ct, SkBuff.IP_CT_NEW);
        mangle.run(NfHook.PRE_ROUTING, skb, null, null);
        assertEquals(0x105, ct.mark);
        assertEquals(Verdict.DROP, mangle.run(NfHook.LOCAL_IN, skb, null, null), "0x105 is not 5 under 0xfff");
        assertEquals(List.of("-A PREROUTING -j CONNMARK --set-xmark 0x5/0xf"), ipt(mangle, "-t mangle -S PREROUTING").subList(1, 2));
        assertEquals("ACCEPT     all  --  anywhere             anywhere             connmark match  0x5",
                line(mangle, "-t mangle -A INPUT -m connmark --mark 5 -j ACCEPT", "INPUT"));
        assertEquals("CONNMARK   all  --  anywhere             anywhere             CONNMARK restore ctmask 0xf nfmask ~0xff",
                line(mangle, "-t mangle -A INPUT -j CONNMARK --restore-mark --nfmask 0xff --ctmask 0xf", "INPUT"));
        assertEquals("iptables v1.8.9 (legacy): CONNMARK target: No operation specified\n" + Iptables.TRY,
                error(mangle, "-t mangle -A PREROUTING -j CONNMARK --mask 3"));
        assertEquals("iptables v1.8.9 (legacy): CONNMARK: option \"--set-mark\" cannot be used together with \"--save-mark\".\n\n"
                + Iptables.TRY, error(mangle, "-t mangle -A PREROUTING -j CONNMARK --set-mark 1 --save-mark"));
    }

    /** Appends the rule and returns its -L line (the chain's last). */
    private static String line(FilterTable t, String rule, String chain) {
        ipt(t, rule);
        List<String> l = ipt(t, "-t " + t.name + " -L " + chain);
        return l.get(l.size() - 1);
    }

    // ------------------------------------------------------------------ NOTRACK and CT

    @Test
    void notrackInRawLeavesThePacketUntrackedAndCtstateUntrackedMatchesIt() {
        ipt(raw, "-t raw -A PREROUTING -p udp -j NOTRACK");
        ipt(filter, "-A INPUT -m conntrack --ctstate UNTRACKED -j DROP");
        SkBuff skb = udp();
        assertEquals(Verdict.ACCEPT, raw.run(NfHook.PRE_ROUTING, skb, null, null));
        assertEquals(SkBuff.IP_CT_UNTRACKED, skb.nfctInfo());
        assertSame(Targets.UNTRACKED, skb.nfct(), "conntrack skips a packet that carries an nfct already");
        assertEquals(Verdict.DROP, filter.run(NfHook.LOCAL_IN, skb, null, null));
        SkBuff tracked = udp();
        Conn ct = new Conn();
        tracked.nfct(ct, SkBuff.IP_CT_NEW);
        raw.run(NfHook.PRE_ROUTING, tracked, null, null);
        assertSame(ct, tracked.nfct(), "a packet conntrack has seen keeps its entry");
    }

    @Test
    void ctNotrackIsTheSameAndBothPrintAsLinux() {
        ipt(raw, "-t raw -A OUTPUT -j CT --notrack");
        ipt(raw, "-t raw -A PREROUTING -p udp -j NOTRACK");
        SkBuff skb = udp();
        raw.run(NfHook.LOCAL_OUT, skb, null, null);
        assertEquals(SkBuff.IP_CT_UNTRACKED, skb.nfctInfo());
        assertEquals(List.of("-P PREROUTING ACCEPT", "-P OUTPUT ACCEPT", "-A PREROUTING -p udp -j NOTRACK",
                "-A OUTPUT -j CT --notrack"), ipt(raw, "-t raw -S"));
        List<String> l = ipt(raw, "-t raw -L -n");
        assertEquals("CT         17   --  0.0.0.0/0            0.0.0.0/0            NOTRACK", l.get(2));
        assertEquals("CT         0    --  0.0.0.0/0            0.0.0.0/0            CT notrack", l.get(6));
    }

    @Test
    void ctZoneLeavesItsTemplateForConntrackAndPrintsAsLinux() {
        // what iptables 1.8.9 and Linux 6.18 print for the same rules
        ipt(raw, "-t raw -A PREROUTING -p udp -j CT --zone 5");
        SkBuff skb = udp();
        raw.run(NfHook.PRE_ROUTING, skb, null, null);
        assertEquals(new org.modnet.api.netfilter.NfCtTemplate(5), skb.nfct());
        assertEquals(List.of("-A PREROUTING -p udp -j CT --zone 5"), ipt(raw, "-t raw -S PREROUTING").subList(1, 2));
        assertEquals("CT         17   --  0.0.0.0/0            0.0.0.0/0            CT zone 5", ipt(raw, "-t raw -L -n").get(2));
        SkBuff tracked = udp();
        Conn ct = new Conn();
        tracked.nfct(ct, SkBuff.IP_CT_NEW);
        raw.run(NfHook.PRE_ROUTING, tracked, null, null);
        assertSame(ct, tracked.nfct(), "a packet conntrack has seen keeps its entry and its zone");
        ipt(raw, "-t raw -D PREROUTING -p udp -j CT --zone 5");
        assertEquals(List.of("-P PREROUTING ACCEPT", "-P OUTPUT ACCEPT"), ipt(raw, "-t raw -S"));
    }

    @Test
    void aZoneOutOfRangeIsRefusedInIptablesWords() {
        assertEquals("iptables v1.8.9 (legacy): Cannot parse 70000 as a zone ID\n\nTry `iptables -h' or 'iptables --help' for more information.",
                error(raw, "-t raw -A OUTPUT -j CT --zone 70000"));
    }

    @Test
    void notrackOutsideRawIsRefusedAsTheKernelRefusesIt() {
        assertEquals("iptables: Invalid argument. Run `dmesg' for more information.",
                error(mangle, "-t mangle -A PREROUTING -j NOTRACK"));
        assertEquals("iptables: No chain/target/match by that name.", error(raw, "-t raw -A INPUT -j ACCEPT"));
    }

    // ------------------------------------------------------------------ TCPMSS

    @Test
    void tcpmssLowersTheMssOfASynAndTheChecksumStaysRight() {
        ipt(mangle, "-t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1200");
        SkBuff skb = syn(1460);
        assertEquals(Verdict.ACCEPT, mangle.run(NfHook.FORWARD, skb, null, null));
        assertEquals(1200, mss(skb));
        assertEquals(tcpChecksum(skb), skb.getU16(skb.networkHeader() + 36));
        SkBuff small = syn(1000);
        mangle.run(NfHook.FORWARD, small, null, null);
        assertEquals(1000, mss(small), "a smaller MSS is kept");
    }

    @Test
    void clampMssToPmtuUsesTheSmallerDevicesMtu() {
        ipt(mangle, "-t mangle -A FORWARD -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu");
        SkBuff skb = syn(1460);
        mangle.run(NfHook.FORWARD, skb, dev("eth0", 1500), dev("wg0", 1420));
        assertEquals(1380, mss(skb));
        assertEquals(tcpChecksum(skb), skb.getU16(skb.networkHeader() + 36));
        assertEquals(List.of("-A FORWARD -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --clamp-mss-to-pmtu"),
                ipt(mangle, "-t mangle -S FORWARD").subList(1, 2));
        assertEquals("TCPMSS     tcp  --  anywhere             anywhere             tcp flags:FIN,SYN,RST,ACK/SYN TCPMSS clamp to PMTU",
                ipt(mangle, "-t mangle -L FORWARD").get(2));
    }

    /** A SYN with options nop, nop, sackOK (no MSS) and {@code payload} bytes after the header; both checksums right. */
    private SkBuff synWithoutMss(int payload) {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        int tl = 24 + payload;
        skb.put(20 + tl);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        for (int i = 0; i < 20 + tl; i++) {
            skb.setU8(nh + i, 0);
        }
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 20 + tl);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 6);
        skb.setU32(nh + 12, 0x0a000001);
        skb.setU32(nh + 16, 0x0a000002);
        skb.setU16(nh + 10, InetChecksum.checksum(skb, nh, 20));
        int th = nh + 20;
        skb.setU16(th, 1000);
        skb.setU16(th + 2, 80);
        skb.setU32(th + 4, 12345);
        skb.setU8(th + 12, 6 << 4);
        skb.setU8(th + 13, 0x02);
        skb.setU16(th + 14, 64240);
        skb.setU8(th + 20, 1);
        skb.setU8(th + 21, 1);
        skb.setU8(th + 22, 4);
        skb.setU8(th + 23, 2);
        for (int i = 0; i < payload; i++) {
            skb.setU8(th + 24 + i, 'a' + i);
        }
        skb.setU16(th + 16, tcpChecksum(skb));
        return skb;
    }

    @Test
    void tcpmssInsertsTheOptionIntoASynWithoutOneAtMost536() {
        ipt(mangle, "-t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 1200");
        SkBuff skb = synWithoutMss(0);
        int nh = skb.networkHeader(), th = nh + 20;
        assertEquals(Verdict.ACCEPT, mangle.run(NfHook.FORWARD, skb, null, null));
        assertEquals(48, skb.getU16(nh + 2), "the IPv4 total length grew by the option");
        assertEquals(48, skb.len());
        assertEquals(7, skb.getU8(th + 12) >>> 4, "data offset 28 bytes");
        assertEquals(List.of(2, 4, 536, 1, 1, 4, 2), List.of(skb.getU8(th + 20), skb.getU8(th + 21), skb.getU16(th + 22),
                skb.getU8(th + 24), skb.getU8(th + 25), skb.getU8(th + 26), skb.getU8(th + 27)),
                "MSS first (RFC 1122's 536 for a peer that sent none), the other options after it");
        assertEquals(tcpChecksum(skb), skb.getU16(th + 16));
        assertEquals(true, ipChecksumOk(skb));

        ipt(mangle, "-t mangle -R FORWARD 1 -p tcp --syn -j TCPMSS --set-mss 500");
        SkBuff low = synWithoutMss(0);
        mangle.run(NfHook.FORWARD, low, null, null);
        assertEquals(500, low.getU16(th + 22), "a value below 536 is the rule's");
        assertEquals(tcpChecksum(low), low.getU16(th + 16));

        SkBuff data = synWithoutMss(10);
        mangle.run(NfHook.FORWARD, data, null, null);
        assertEquals(54, data.getU16(nh + 2), "data after the header: left as it was");
        assertEquals(6, data.getU8(th + 12) >>> 4);
        assertEquals(tcpChecksum(data), data.getU16(th + 16));
    }

    @Test
    void tcpmssInsertingIntoAPartialChecksumFixesOnlyThePseudoHeadersLength() {
        ipt(mangle, "-t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 1400");
        SkBuff skb = synWithoutMss(0);
        int nh = skb.networkHeader(), th = nh + 20;
        // tcp_v4_send_check with offload: the check field holds the pseudo-header's folded sum
        int pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6;
        skb.setU16(th + 16, pseudo + 24);
        skb.csumPartial(th, 16);
        mangle.run(NfHook.FORWARD, skb, null, null);
        assertEquals(536, skb.getU16(th + 22));
        assertEquals(pseudo + 28, skb.getU16(th + 16), "the new length in the pseudo-header's sum; the device sums the rest");
        assertEquals(true, ipChecksumOk(skb));
    }

    @Test
    void tcpmssWithoutASynMatchOrInTheWrongPlaceIsRefused() {
        String inval = "iptables: Invalid argument. Run `dmesg' for more information.";
        assertEquals(inval, error(mangle, "-t mangle -A FORWARD -p tcp -j TCPMSS --set-mss 1000"));
        assertEquals(inval, error(mangle, "-t mangle -A FORWARD -p tcp ! --syn -j TCPMSS --set-mss 1000"));
        assertEquals(inval, error(mangle, "-t mangle -A PREROUTING -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu"));
        assertEquals("iptables v1.8.9 (legacy): TCPMSS target: At least one parameter is required\n" + Iptables.TRY,
                error(mangle, "-t mangle -A FORWARD -p tcp --syn -j TCPMSS"));
        assertEquals("iptables v1.8.9 (legacy): TCPMSS: bad value for option \"--set-mss\", or out of range (0-65515).\n\n"
                + Iptables.TRY, error(mangle, "-t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 70000"));
        assertEquals(List.of("-P FORWARD ACCEPT"), ipt(mangle, "-t mangle -S FORWARD"));
    }

    // ------------------------------------------------------------------ -m limit

    @Test
    void limitPassesTheBurstThenTheRateOfAFlood() {
        long[] now = { 0 };
        mangle.clock = () -> now[0];
        ipt(mangle, "-t mangle -A PREROUTING -m limit --limit 10/sec -j ACCEPT");
        ipt(mangle, "-t mangle -A PREROUTING -j DROP");
        SkBuff skb = udp();
        int passed = 0;
        // 1000 packets a second for two seconds
        for (int ms = 0; ms <= 2000; ms++) {
            now[0] = ms * 1_000_000L;
            if (mangle.run(NfHook.PRE_ROUTING, skb, null, null) == Verdict.ACCEPT) {
                passed++;
            }
        }
        assertEquals(5 + 20, passed, "the burst of 5, then one each 100 ms");
        assertEquals(List.of("-A PREROUTING -m limit --limit 10/sec -j ACCEPT"), ipt(mangle, "-t mangle -S PREROUTING").subList(1, 2));
    }

    @Test
    void limitRatesPrintInTheLargestWholeUnitAndBadOnesAreRefused() {
        assertEquals("3/hour", Matches.Limit.rate(Matches.Limit.parseRate("3/hour")));
        assertEquals("3/min", Matches.Limit.rate(Matches.Limit.parseRate("3/m")));
        assertEquals("100/hour", Matches.Limit.rate(Matches.Limit.parseRate("100/hour")));
        assertEquals("7/sec", Matches.Limit.rate(Matches.Limit.parseRate("7/s")));
        assertEquals("2/day", Matches.Limit.rate(Matches.Limit.parseRate("2/day")));
        assertEquals("ACCEPT     all  --  anywhere             anywhere             limit: avg 3/min burst 10",
                line(mangle, "-t mangle -A INPUT -m limit --limit 3/min --limit-burst 10 -j ACCEPT", "INPUT"));
        assertEquals("iptables v1.8.9 (legacy): bad rate \"10/fortnight\"'\n" + Iptables.TRY,
                error(mangle, "-t mangle -A INPUT -m limit --limit 10/fortnight"));
        assertEquals("iptables v1.8.9 (legacy): Rate too fast \"100000/sec\"\n" + Iptables.TRY,
                error(mangle, "-t mangle -A INPUT -m limit --limit 100000/sec"));
        assertEquals("iptables v1.8.9 (legacy): limit: bad value for option \"--limit-burst\", or out of range (0-10000).\n\n"
                + Iptables.TRY, error(mangle, "-t mangle -A INPUT -m limit --limit-burst 20000"));
        assertEquals("iptables: Numerical result out of range.", error(mangle, "-t mangle -A INPUT -m limit --limit-burst 0"));
    }

    // ------------------------------------------------------------------ -m addrtype

    @Test
    void addrtypeClassifiesBothEndsAsTheTableSeesThem() {
        mangle.addrType = a -> a == 0x0a000002 ? AddrType.LOCAL : AddrType.NONE.type(a);
        ipt(mangle, "-t mangle -A INPUT -m addrtype --src-type LOCAL -j DROP");
        ipt(mangle, "-t mangle -A INPUT -m addrtype ! --dst-type LOCAL,BROADCAST -j DROP");
        ipt(mangle, "-t mangle -A INPUT -m addrtype --src-type UNICAST --dst-type LOCAL -j MARK --set-mark 1");
        SkBuff skb = udp(); // 10.0.0.1 > 10.0.0.2 (local)
        assertEquals(Verdict.ACCEPT, mangle.run(NfHook.LOCAL_IN, skb, null, null));
        assertEquals(1, skb.mark());
        SkBuff away = udp();
        away.setU32(away.networkHeader() + 16, 0x0a000009); // to another host
        assertEquals(Verdict.DROP, mangle.run(NfHook.LOCAL_IN, away, null, null));
        SkBuff bcast = udp();
        bcast.setU32(bcast.networkHeader() + 16, -1);
        assertEquals(Verdict.ACCEPT, mangle.run(NfHook.LOCAL_IN, bcast, null, null));
        assertEquals(List.of("-A INPUT -m addrtype --src-type LOCAL -j DROP",
                "-A INPUT -m addrtype ! --dst-type LOCAL,BROADCAST -j DROP",
                "-A INPUT -m addrtype --src-type UNICAST --dst-type LOCAL -j MARK --set-xmark 0x1/0xffffffff"),
                ipt(mangle, "-t mangle -S INPUT").subList(1, 4));
        assertEquals("DROP       all  --  anywhere             anywhere             ADDRTYPE match dst-type !LOCAL,BROADCAST",
                ipt(mangle, "-t mangle -L INPUT").get(3));
    }

    @Test
    void addrtypeErrorsAreIptablesOwn() {
        assertEquals("iptables v1.8.9 (legacy): addrtype: you must specify --src-type or --dst-type\n" + Iptables.TRY,
                error(mangle, "-t mangle -A INPUT -m addrtype"));
        assertEquals("iptables v1.8.9 (legacy): addrtype: bad type \"FOO\"\n" + Iptables.TRY,
                error(mangle, "-t mangle -A INPUT -m addrtype --src-type FOO"));
        assertEquals("iptables v1.8.9 (legacy): addrtype: option \"--src-type\" can only be used once.\n\n" + Iptables.TRY,
                error(mangle, "-t mangle -A INPUT -m addrtype --src-type LOCAL --src-type LOCAL"));
    }

    // ------------------------------------------------------------------ TOS, DSCP, TTL

    private static boolean ipChecksumOk(SkBuff skb) {
        return InetChecksum.verify(skb, skb.networkHeader(), 20);
    }

    private SkBuff udpWithChecksum() {
        SkBuff skb = udp();
        int nh = skb.networkHeader();
        skb.setU16(nh + 10, InetChecksum.checksum(skb, nh, 20));
        return skb;
    }

    @Test
    void tosDscpAndTtlRewriteTheHeaderAndKeepItsChecksumRight() {
        ipt(mangle, "-t mangle -A PREROUTING -j TOS --set-tos 0x10/0x3f");
        ipt(mangle, "-t mangle -A FORWARD -j DSCP --set-dscp-class EF");
        ipt(mangle, "-t mangle -A POSTROUTING -j TTL --ttl-dec 70");
        ipt(mangle, "-t mangle -A OUTPUT -j TTL --ttl-inc 250");
        SkBuff skb = udpWithChecksum();
        int nh = skb.networkHeader();
        skb.setU8(nh + 1, 0xc3);
        skb.setU16(nh + 10, 0);
        skb.setU16(nh + 10, InetChecksum.checksum(skb, nh, 20));
        mangle.run(NfHook.PRE_ROUTING, skb, null, null);
        assertEquals(0xd0, skb.getU8(nh + 1), "(0xc3 & ~0x3f) ^ 0x10");
        skb.setU8(nh + 1, 0xd1); // an ECN bit, which DSCP keeps
        skb.setU16(nh + 10, 0);
        skb.setU16(nh + 10, InetChecksum.checksum(skb, nh, 20));
        assertEquals(true, ipChecksumOk(skb));
        mangle.run(NfHook.FORWARD, skb, null, null);
        assertEquals(46 << 2 | 0x1, skb.getU8(nh + 1), "EF, the ECN bits kept");
        assertEquals(true, ipChecksumOk(skb));
        mangle.run(NfHook.POST_ROUTING, skb, null, null);
        assertEquals(0, skb.getU8(nh + 8), "64 - 70 stops at 0");
        assertEquals(true, ipChecksumOk(skb));
        mangle.run(NfHook.LOCAL_OUT, skb, null, null);
        mangle.run(NfHook.LOCAL_OUT, skb, null, null);
        assertEquals(255, skb.getU8(nh + 8), "0 + 250 + 250 stops at 255");
        assertEquals(true, ipChecksumOk(skb));
        assertEquals(List.of("-A PREROUTING -j TOS --set-tos 0x10/0x3f"), ipt(mangle, "-t mangle -S PREROUTING").subList(1, 2));
        assertEquals("TOS        all  --  anywhere             anywhere              TOS setMinimize-Delay",
                ipt(mangle, "-t mangle -L PREROUTING").get(2));
        assertEquals("TTL        0    --  0.0.0.0/0            0.0.0.0/0            TTL decrement by 70",
                ipt(mangle, "-t mangle -L POSTROUTING -n").get(2));
    }

    @Test
    void tosDscpAndTtlErrorsAreIptablesOwn() {
        assertEquals("iptables v1.8.9 (legacy): TTL: You must specify an action\n" + Iptables.TRY,
                error(mangle, "-t mangle -A PREROUTING -j TTL"));
        assertEquals("iptables v1.8.9 (legacy): TTL: bad value for option \"--ttl-dec\", or out of range (1-255).\n\n"
                + Iptables.TRY, error(mangle, "-t mangle -A PREROUTING -j TTL --ttl-dec 0"));
        assertEquals("iptables v1.8.9 (legacy): TTL: option \"--ttl-set\" cannot be used together with \"--ttl-inc\".\n\n"
                + Iptables.TRY, error(mangle, "-t mangle -A PREROUTING -j TTL --ttl-set 1 --ttl-inc 2"));
        assertEquals("iptables v1.8.9 (legacy): DSCP target: Parameter --set-dscp is required\n" + Iptables.TRY,
                error(mangle, "-t mangle -A PREROUTING -j DSCP"));
        assertEquals("iptables v1.8.9 (legacy): Invalid DSCP value `XX'\n" + Iptables.TRY,
                error(mangle, "-t mangle -A PREROUTING -j DSCP --set-dscp-class XX"));
        assertEquals("iptables v1.8.9 (legacy): TOS: An action is required\n" + Iptables.TRY,
                error(mangle, "-t mangle -A PREROUTING -j TOS"));
        assertEquals("iptables v1.8.9 (legacy): Symbolic name \"0x100\" is unknown\n" + Iptables.TRY,
                error(mangle, "-t mangle -A PREROUTING -j TOS --set-tos 0x100"));
        assertEquals("iptables: Invalid argument. Run `dmesg' for more information.", error(filter, "-A INPUT -j TTL --ttl-set 3"));
    }
}
