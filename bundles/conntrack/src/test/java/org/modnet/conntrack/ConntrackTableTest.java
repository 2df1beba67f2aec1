package org.modnet.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

class ConntrackTableTest {
    private long now = 1_000_000;
    private final TestSysctl sysctl = new TestSysctl();
    private final ConntrackTable t = new ConntrackTable(sysctl, () -> now, 64);
    private final Packets p = new Packets();

    /** PRE_ROUTING's conntrack and LOCAL_IN's confirm, as a packet for this host passes them. */
    private int pass(SkBuff skb) {
        assertEquals(Verdict.ACCEPT, t.in(skb));
        assertEquals(Verdict.ACCEPT, t.confirm(skb));
        int info = skb.nfctInfo();
        skb.free();
        return info;
    }

    private NfConn only() {
        List<NfConn> l = t.entries();
        assertEquals(1, l.size());
        return l.get(0);
    }

    @Test
    void tcpHandshakeGoesSynSentSynRecvEstablishedAndIsAssured() {
        assertEquals(SkBuff.IP_CT_NEW, pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.SYN)));
        assertEquals(TcpConntrack.SYN_SENT, only().state);
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY,
                pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, Packets.SYN | Packets.ACK)));
        assertEquals(TcpConntrack.SYN_RECV, only().state);
        assertEquals(SkBuff.IP_CT_ESTABLISHED, pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.ACK)));
        NfConn ct = only();
        assertEquals(TcpConntrack.ESTABLISHED, ct.state);
        assertTrue(ct.has(NfConn.IPS_ASSURED));
        assertEquals(432000, t.secondsLeft(ct));
        // what nft's ct status reads through the API: seen-reply, assured, confirmed
        int bits = ((org.modnet.api.netfilter.NfConnMark) ct).status();
        assertEquals(NfConn.IPS_SEEN_REPLY | NfConn.IPS_ASSURED | NfConn.IPS_CONFIRMED,
                bits & (NfConn.IPS_SEEN_REPLY | NfConn.IPS_ASSURED | NfConn.IPS_CONFIRMED | NfConn.IPS_DYING));
    }

    @Test
    void tcpCloseGoesFinWaitCloseWaitLastAckTimeWait() {
        pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.SYN));
        pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, Packets.SYN | Packets.ACK));
        pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.ACK));
        pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.FIN | Packets.ACK));
        assertEquals(TcpConntrack.FIN_WAIT, only().state);
        pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, Packets.ACK));
        assertEquals(TcpConntrack.CLOSE_WAIT, only().state);
        pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, Packets.FIN | Packets.ACK));
        assertEquals(TcpConntrack.LAST_ACK, only().state);
        pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.ACK));
        assertEquals(TcpConntrack.TIME_WAIT, only().state);
        assertEquals(120, t.secondsLeft(only()));
    }

    @Test
    void resetClosesAnEstablishedConnection() {
        pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.SYN));
        pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, Packets.SYN | Packets.ACK));
        pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.ACK));
        pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, Packets.RST));
        assertEquals(TcpConntrack.CLOSE, only().state);
        assertEquals(10, t.secondsLeft(only()));
    }

    @Test
    void resetAnsweringTheSynDeletesTheEntry() {
        pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.SYN));
        pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, Packets.RST | Packets.ACK));
        assertEquals(0, t.entries().size());
        assertEquals(0, t.count.get());
    }

    @Test
    void finForAnUnknownFlowIsInvalidAndNotTracked() {
        assertEquals(SkBuff.NFCT_NONE, pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.FIN | Packets.ACK)));
        assertEquals(0, t.entries().size());
        assertEquals(1, t.invalid.get());
    }

    @Test
    void midStreamAckIsPickedUpAsEstablished() {
        pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, Packets.ACK));
        assertEquals(TcpConntrack.ESTABLISHED, only().state);
        assertTrue(!only().has(NfConn.IPS_ASSURED));
    }

    @Test
    void udpIsUnrepliedThenRepliedAndAStreamAfterTwoSeconds() {
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53));
        assertEquals(List.of("udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=53 [UNREPLIED] src=10.0.0.2 "
                + "dst=10.0.0.1 sport=53 dport=5000 mark=0 use=1", "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown."),
                Conntrack.run(t, "-L"));
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, pass(p.udp("10.0.0.2", 53, "10.0.0.1", 5000)));
        assertEquals(30, t.secondsLeft(only()));
        now += 3000;
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53));
        assertEquals("udp      17 120 src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=53 src=10.0.0.2 dst=10.0.0.1 "
                + "sport=53 dport=5000 [ASSURED] mark=0 use=1", Conntrack.run(t, "-L", "-p", "udp").get(0));
    }

    @Test
    void echoRequestAndReplyAreOneFlowPrintedWithTypeCodeAndId() {
        assertEquals(SkBuff.IP_CT_NEW, pass(p.icmpEcho("10.0.0.1", "10.0.0.2", 8, 77)));
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, pass(p.icmpEcho("10.0.0.2", "10.0.0.1", 0, 77)));
        assertEquals("icmp     1 30 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=77 src=10.0.0.2 dst=10.0.0.1 type=0 "
                + "code=0 id=77 mark=0 use=1", Conntrack.run(t, "-L").get(0));
    }

    @Test
    void echoReplyWithoutARequestIsInvalid() {
        assertEquals(SkBuff.NFCT_NONE, pass(p.icmpEcho("10.0.0.2", "10.0.0.1", 0, 77)));
        assertEquals(0, t.count.get());
    }

    @Test
    void icmpErrorAboutATrackedFlowIsRelatedAndAForgedOneIsInvalid() {
        SkBuff out = p.udp("10.0.0.1", 5000, "10.0.0.2", 9);
        t.in(out);
        t.confirm(out);
        SkBuff err = p.icmpError("10.0.0.2", "10.0.0.1", 3, 3, out);
        assertEquals(SkBuff.IP_CT_RELATED + SkBuff.IP_CT_IS_REPLY, pass(err));
        SkBuff other = p.udp("10.0.0.1", 5001, "10.0.0.2", 9);
        assertEquals(SkBuff.NFCT_NONE, pass(p.icmpError("10.0.0.2", "10.0.0.1", 3, 3, other)));
        out.free();
        other.free();
    }

    /** A TCP handshake through {@code tt}: the flow ends ESTABLISHED and ASSURED. */
    private void assured(ConntrackTable tt, String client, int port) {
        for (SkBuff skb : new SkBuff[] { p.tcp(client, port, "10.0.0.2", 80, Packets.SYN),
                p.tcp("10.0.0.2", 80, client, port, Packets.SYN | Packets.ACK), p.tcp(client, port, "10.0.0.2", 80, Packets.ACK) }) {
            assertEquals(Verdict.ACCEPT, tt.in(skb));
            assertEquals(Verdict.ACCEPT, tt.confirm(skb));
            skb.free();
        }
    }

    @Test
    void fullTableOfAssuredFlowsDropsTheNewFlowCountsItAndKeepsTrackedOnes() throws Exception {
        sysctl.set("net.netfilter.nf_conntrack_max", "2");
        assured(t, "10.0.0.1", 40000);
        assured(t, "10.0.0.1", 40001);
        SkBuff third = p.udp("10.0.0.1", 5001, "10.0.0.2", 53);
        assertEquals(Verdict.DROP, t.in(third), "nothing to evict: every flow is assured");
        third.free();
        assertEquals(1, t.drop.get());
        assertEquals(0, t.earlyDrop.get());
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, Packets.ACK)));
        assertEquals(SkBuff.IP_CT_ESTABLISHED, pass(p.tcp("10.0.0.1", 40001, "10.0.0.2", 80, Packets.ACK)));
        assertEquals("2", sysctl.get("net.netfilter.nf_conntrack_count"));
        assertTrue(Conntrack.run(t, "-S").get(0).contains(" drop=1 early_drop=0 "), Conntrack.run(t, "-S").get(0));
    }

    @Test
    void fullTableEvictsAnUnassuredFlowForTheNewOneAndCountsEarlyDrop() throws Exception {
        // 8 buckets: the eviction range (NF_CT_EVICTION_RANGE) covers the whole table, wherever the hash puts things
        TestSysctl s8 = new TestSysctl();
        ConntrackTable t8 = new ConntrackTable(s8, () -> now, 8);
        s8.set("net.netfilter.nf_conntrack_max", "2");
        assured(t8, "10.0.0.1", 40000);
        SkBuff udp = p.udp("10.0.0.1", 5000, "10.0.0.2", 53); // unreplied: not assured
        t8.in(udp);
        t8.confirm(udp);
        udp.free();
        SkBuff next = p.udp("10.0.0.1", 5001, "10.0.0.2", 53);
        assertEquals(Verdict.ACCEPT, t8.in(next));
        assertEquals(Verdict.ACCEPT, t8.confirm(next));
        assertEquals(SkBuff.IP_CT_NEW, next.nfctInfo());
        next.free();
        assertEquals(1, t8.earlyDrop.get());
        assertEquals(0, t8.drop.get());
        assertNull(t8.find(Packets.ip("10.0.0.1"), Packets.ip("10.0.0.2"), 5000, 53, 17), "the unassured flow made room");
        assertTrue(t8.find(Packets.ip("10.0.0.1"), Packets.ip("10.0.0.2"), 40000, 80, 6) != null, "the assured one stays");
        assertTrue(t8.find(Packets.ip("10.0.0.1"), Packets.ip("10.0.0.2"), 5001, 53, 17) != null);
        assertEquals(2, t8.count.get());
        assertTrue(Conntrack.run(t8, "-S").get(0).contains(" insert=3 insert_failed=0 drop=0 early_drop=1 "),
                Conntrack.run(t8, "-S").get(0));
    }

    @Test
    void aFullTableWithNothingToEvictHasTheCollectorKillClosingFlowsAbove95Percent() throws Exception {
        sysctl.set("net.netfilter.nf_conntrack_max", "100");
        for (int i = 0; i < 100; i++) {
            assured(t, "10.0.1." + (i + 1), 40000);
        }
        // one flow closing: FIN, its ACK; still assured, so early drop leaves it, but gc_worker's early drop may take it
        pass(p.tcp("10.0.1.1", 40000, "10.0.0.2", 80, Packets.FIN | Packets.ACK));
        pass(p.tcp("10.0.0.2", 80, "10.0.1.1", 40000, Packets.ACK));
        SkBuff next = p.udp("10.0.0.1", 5001, "10.0.0.2", 53);
        assertEquals(Verdict.DROP, t.in(next));
        next.free();
        assertEquals(1, t.drop.get());
        assertEquals(1, t.gc(), "the closing flow goes; the established ones stay");
        assertEquals(99, t.count.get());
        assertNull(t.find(Packets.ip("10.0.1.1"), Packets.ip("10.0.0.2"), 40000, 80, 6));
        assertEquals(0, t.gc(), "once: the next round only expires");
        assertEquals(SkBuff.IP_CT_NEW, pass(p.udp("10.0.0.1", 5001, "10.0.0.2", 53)));
    }

    @Test
    void aMaxOfZeroIsNoLimit() throws Exception {
        sysctl.set("net.netfilter.nf_conntrack_max", "0");
        assertEquals(SkBuff.IP_CT_NEW, pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53)));
        assertEquals(1, t.count.get());
        TestSysctl s2 = new TestSysctl();
        ConntrackTable next = new ConntrackTable(s2, () -> now, 64);
        s2.set("net.netfilter.nf_conntrack_max", "0");
        assertTrue(next.adopt(t.export(only())), "a hand-over into an unbounded table");
    }

    @Test
    void entriesExpireAfterTheirSysctlTimeout() throws Exception {
        sysctl.set("net.netfilter.nf_conntrack_udp_timeout", "5");
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53));
        now += 4000;
        assertEquals(1, t.entries().size());
        now += 2000;
        assertEquals(1, t.gc());
        assertEquals(0, t.count.get());
        assertEquals(SkBuff.IP_CT_NEW, pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53)));
    }

    @Test
    void knownFlowPacketsReuseTheirEntry() {
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53));
        NfConn ct = only();
        SkBuff again = p.udp("10.0.0.1", 5000, "10.0.0.2", 53);
        t.in(again);
        assertSame(ct, again.nfct());
        again.free();
        assertEquals(0, t.found.get(), "Linux 6.12 counts found only when NAT finds a tuple taken, not per lookup");
    }

    @Test
    void deleteFlushCountAndStatsPrintAsConntrackDoes() {
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53));
        pass(p.tcp("10.0.0.1", 40000, "10.0.0.3", 80, Packets.SYN));
        assertEquals(List.of("2"), Conntrack.run(t, "-C"));
        assertEquals(List.of("tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.3 sport=40000 dport=80 [UNREPLIED] "
                + "src=10.0.0.3 dst=10.0.0.1 sport=80 dport=40000 mark=0 use=1",
                "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown."), Conntrack.run(t, "-L", "-d", "10.0.0.3"));
        assertEquals("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted.",
                Conntrack.run(t, "-D", "-p", "tcp").get(1));
        assertEquals(List.of("cpu=0   \tfound=0 invalid=0 insert=2 insert_failed=0 drop=0 early_drop=0 error=0 "
                + "search_restart=0 clash_resolve=0 chaintoolong=0 "), Conntrack.run(t, "-S"));
        assertEquals(List.of("conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied."),
                Conntrack.run(t, "-F"));
        assertEquals(List.of("0"), Conntrack.run(t, "-C"));
        assertNull(t.find(Packets.ip("10.0.0.1"), Packets.ip("10.0.0.2"), 5000, 53, 17));
    }

    @Test
    void badOptionsAnswerInConntracksWords() {
        CommandException e = assertThrows(CommandException.class, () -> Conntrack.run(t, "-Q"));
        assertEquals("conntrack v1.4.7 (conntrack-tools): unknown option `-Q'\n"
                + "Try `conntrack -h' or 'conntrack --help' for more information.", e.getMessage());
        e = assertThrows(CommandException.class, () -> Conntrack.run(t, "-L", "-p", "foo"));
        assertTrue(e.getMessage().startsWith("conntrack v1.4.7 (conntrack-tools): `foo' unsupported protocol"));
        e = assertThrows(CommandException.class, () -> Conntrack.run(t, "-L", "-p", "tcp", "--state", "FOO"));
        assertTrue(e.getMessage().startsWith("conntrack v1.4.7 (conntrack-tools): unknown TCP state `FOO'"));
    }

    @Test
    void procLinesCarryTheFamilyZoneAndReadersReference() {
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53));
        assertEquals("ipv4     2 udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=53 [UNREPLIED] src=10.0.0.2 "
                + "dst=10.0.0.1 sport=53 dport=5000 mark=0 zone=0 use=2", Conntrack.line(t, only(), true));
    }

    @Test
    void anUntrackedPacketIsLeftOutOfTheTable() {
        SkBuff skb = p.udp("10.0.0.1", 1000, "10.0.0.2", 53);
        Object template = new Object(); // what the raw table's NOTRACK attaches
        skb.nfct(template, SkBuff.IP_CT_UNTRACKED);
        assertEquals(Verdict.ACCEPT, t.in(skb));
        assertEquals(Verdict.ACCEPT, t.confirm(skb));
        assertSame(template, skb.nfct());
        assertEquals(SkBuff.IP_CT_UNTRACKED, skb.nfctInfo());
        assertTrue(t.entries().isEmpty());
    }

    @Test
    void theConnectionsMarkIsSetThroughTheApiAndListedAsLinuxListsIt() {
        SkBuff skb = p.udp("10.0.0.1", 1000, "10.0.0.2", 53);
        assertEquals(Verdict.ACCEPT, t.in(skb));
        org.modnet.api.netfilter.NfConnMark ct = (org.modnet.api.netfilter.NfConnMark) skb.nfct();
        ct.mark(42); // CONNMARK --set-mark 42
        t.confirm(skb);
        assertEquals(42, only().mark());
        assertTrue(Conntrack.line(t, only(), false).endsWith(" mark=42 use=1"), Conntrack.line(t, only(), false));
    }
}
