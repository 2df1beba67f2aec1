package org.modnet.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/**
 * Window tracking as nf_conntrack_proto_tcp's tcp_in_window does it: a client 10.0.0.1:40000 (ISN
 * 1000) and a server 10.0.0.2:80 (ISN 5000) exchange segments; one outside the window the other side
 * advertised is INVALID and counted, unless nf_conntrack_tcp_be_liberal is 1.
 */
class TcpWindowTest {
    private long now = 1_000_000;
    private final TestSysctl sysctl = new TestSysctl();
    private final ConntrackTable t = new ConntrackTable(sysctl, () -> now, 64);
    private final Packets p = new Packets();
    private static final int S = Packets.SYN, A = Packets.ACK, F = Packets.FIN, R = Packets.RST;
    /** Window scale 7 (kind 3, length 3) and an end-of-options byte: one word. */
    private static final int[] WSCALE_7 = { 1, 3, 3, 7 };

    /** The segment through conntrack and confirm: its ctinfo, or -1 when it was INVALID (no entry attached). */
    private int pass(SkBuff skb) {
        assertEquals(Verdict.ACCEPT, t.in(skb));
        int info = skb.nfct() == null ? -1 : skb.nfctInfo();
        t.confirm(skb);
        skb.free();
        return info;
    }

    private int client(int flags, int seq, int ack, int win, int len, int... opts) {
        return pass(p.tcp("10.0.0.1", 40000, "10.0.0.2", 80, flags, seq, ack, win, len, opts));
    }

    private int server(int flags, int seq, int ack, int win, int len, int... opts) {
        return pass(p.tcp("10.0.0.2", 80, "10.0.0.1", 40000, flags, seq, ack, win, len, opts));
    }

    private NfConn only() {
        List<NfConn> l = t.entries();
        assertEquals(1, l.size());
        return l.get(0);
    }

    /** The handshake, both windows 1000 bytes and unscaled. */
    private void handshake() {
        client(S, 1000, 0, 1000, 0);
        server(S | A, 5000, 1001, 1000, 0);
        client(A, 1001, 5001, 1000, 0);
        assertEquals(TcpConntrack.ESTABLISHED, only().state);
    }

    @Test
    void segmentsWithinTheWindowsPassAndMoveTheEdges() {
        handshake();
        assertEquals(SkBuff.IP_CT_ESTABLISHED, client(A, 1001, 5001, 1000, 500));
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, server(A, 5001, 1501, 1000, 0));
        TcpConntrack.Window w = only().window;
        assertEquals(1501, w.end[0], "the client's highest byte sent");
        assertEquals(1501 + 1000, w.maxend[0], "what the server's last window lets it send up to");
        assertEquals(0, t.invalid.get());
    }

    @Test
    void aSegmentBeyondTheReceiversWindowIsInvalidAndCounted() {
        handshake();
        assertEquals(-1, client(A, 1001 + 5000, 5001, 1000, 100), "SEQ is over the upper bound (over the window of the receiver)");
        assertEquals(1, t.invalid.get());
        assertEquals(TcpConntrack.ESTABLISHED, only().state, "the entry is left as it was");
        assertEquals(1001, only().window.end[0]);
        assertEquals(List.of("cpu=0   \tfound=0 invalid=1 insert=1 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 "
                + "clash_resolve=0 chaintoolong=0 "), Conntrack.run(t, "-S"));
    }

    @Test
    void anAckForDataNotYetSentIsInvalid() {
        handshake();
        assertEquals(-1, server(A, 5001, 1001 + 300, 1000, 0), "ACK is over the upper bound (ACKed data not seen yet)");
        assertEquals(1, t.invalid.get());
    }

    @Test
    void oldDataRetransmittedFarBelowTheWindowIsInvalid() {
        handshake();
        client(A, 1001, 5001, 1000, 1000);
        server(A, 5001, 2001, 1000, 0);
        client(A, 2001, 5001, 1000, 1000);
        server(A, 5001, 3001, 1000, 0);
        // the server's window is 1000: a segment ending more than that below the client's edge is stale
        assertEquals(-1, client(A, 1001, 5001, 1000, 500), "SEQ is under the lower bound (already ACKed data retransmitted)");
        assertEquals(SkBuff.IP_CT_ESTABLISHED, client(A, 2801, 5001, 1000, 200), "a retransmission within the window passes");
    }

    @Test
    void beLiberalLetsOutOfWindowSegmentsThrough() throws Exception {
        sysctl.set("net.netfilter.nf_conntrack_tcp_be_liberal", "1");
        handshake();
        assertEquals(SkBuff.IP_CT_ESTABLISHED, client(A, 1001 + 5000, 5001, 1000, 100));
        assertEquals(0, t.invalid.get());
    }

    @Test
    void windowScalingCountsWhenBothSidesOfferIt() {
        client(S, 1000, 0, 1000, 0, WSCALE_7);
        server(S | A, 5000, 1001, 1000, 0, WSCALE_7);
        client(A, 1001, 5001, 1000, 0);
        server(A, 5001, 1001, 1000, 0); // the server's window is now 1000 << 7
        assertEquals(SkBuff.IP_CT_ESTABLISHED, client(A, 1001 + 100_000, 5001, 1000, 100), "within 128000 bytes");
        assertEquals(7, only().window.scale[1]);
        assertEquals(0, t.invalid.get());
    }

    @Test
    void scalingOfferedByOneSideOnlyIsNotUsed() {
        client(S, 1000, 0, 1000, 0, WSCALE_7);
        server(S | A, 5000, 1001, 1000, 0);
        client(A, 1001, 5001, 1000, 0);
        server(A, 5001, 1001, 1000, 0);
        assertEquals(0, only().window.scale[0]);
        assertEquals(-1, client(A, 1001 + 100_000, 5001, 1000, 100));
    }

    @Test
    void aFlowPickedUpMidStreamIsTrackedLiberallyAndLooseZeroRefusesIt() throws Exception {
        assertEquals(SkBuff.IP_CT_NEW, client(A, 77777, 88888, 1000, 10));
        assertEquals(SkBuff.IP_CT_NEW, client(A, 77777 + 900_000, 88888, 1000, 10), "liberal: the window was never seen");
        Conntrack.run(t, "-F");
        sysctl.set("net.netfilter.nf_conntrack_tcp_loose", "0");
        long before = t.invalid.get();
        assertEquals(-1, client(A, 77777, 88888, 1000, 10), "without tcp_loose only a SYN opens a flow");
        assertEquals(before + 1, t.invalid.get());
        assertNull(t.find(Packets.ip("10.0.0.1"), Packets.ip("10.0.0.2"), 40000, 80, 6));
    }

    @Test
    void aCloseWithinTheWindowsReachesTimeWait() {
        handshake();
        client(F | A, 1001, 5001, 1000, 0);
        server(A, 5001, 1002, 1000, 0);
        server(F | A, 5001, 1002, 1000, 0);
        client(A, 1002, 5002, 1000, 0);
        assertEquals(TcpConntrack.TIME_WAIT, only().state);
        assertEquals(0, t.invalid.get());
    }

    @Test
    void theRstAnsweringASynIsInWindow() {
        client(S, 1000, 0, 1000, 0);
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, server(R | A, 0, 1001, 0, 0));
        assertEquals(0, t.invalid.get());
    }

    /** SACK permitted (kind 4, length 2) and two NOPs: one word. */
    private static final int[] SACK_PERM = { 4, 2, 1, 1 };

    /** Two NOPs and one SACK block {@code left..right} (kind 5, length 10): three words. */
    private static int[] sackBlock(int left, int right) {
        return new int[] { 1, 1, 5, 10, left >>> 24, (left >>> 16) & 0xff, (left >>> 8) & 0xff, left & 0xff,
                right >>> 24, (right >>> 16) & 0xff, (right >>> 8) & 0xff, right & 0xff };
    }

    private void handshake(boolean sackPermitted) {
        client(S, 1000, 0, 1000, 0, sackPermitted ? SACK_PERM : new int[0]);
        server(S | A, 5000, 1001, 1000, 0, sackPermitted ? SACK_PERM : new int[0]);
        client(A, 1001, 5001, 1000, 0);
    }

    @Test
    void aSackBlockMovesTheSendersEdgeAsTcpSackDoes() {
        handshake(true);
        client(A, 1001, 5001, 1000, 500); // lost on the way
        client(A, 1501, 5001, 1000, 500);
        // the server holds 1501..2001 and says so: the edge moves to 2001 + its window
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, server(A, 5001, 1001, 1000, 0, sackBlock(1501, 2001)));
        assertEquals(SkBuff.IP_CT_ESTABLISHED, client(A, 2501, 5001, 1000, 100), "within the window the SACK opened");
    }

    @Test
    void withoutSackPermittedTheBlocksAreIgnored() {
        handshake(false);
        client(A, 1001, 5001, 1000, 500);
        client(A, 1501, 5001, 1000, 500);
        server(A, 5001, 1001, 1000, 0, sackBlock(1501, 2001));
        assertEquals(-1, client(A, 2501, 5001, 1000, 100), "past the window the plain ACK gave");
        assertEquals(1, t.invalid.get());
    }

    @Test
    void aSackBlockPastWhatWasSentIsInvalid() {
        handshake(true);
        client(A, 1001, 5001, 1000, 500);
        assertEquals(-1, server(A, 5001, 1001, 1000, 0, sackBlock(1501, 2001)), "it claims data never sent");
        assertEquals(1, t.invalid.get());
    }

    @Test
    void aSegmentSentAgainAndAgainGetsTheRetransmissionTimeout() throws Exception {
        sysctl.set("net.netfilter.nf_conntrack_tcp_timeout_unacknowledged", "1000");
        sysctl.set("net.netfilter.nf_conntrack_tcp_timeout_max_retrans", "200");
        handshake(false);
        client(A, 1001, 5001, 1000, 100);
        assertEquals(1000, t.secondsLeft(only()), "data unacknowledged");
        for (int i = 1; i <= 3; i++) {
            client(A, 1001, 5001, 1000, 100); // the same segment again
            assertEquals(i, only().window.retrans);
        }
        assertEquals(200, t.secondsLeft(only()), "nf_conntrack_tcp_max_retrans (3) reached");
        server(A, 5001, 1101, 1000, 0);
        assertEquals(0, only().window.retrans, "another segment starts the count again");
        assertEquals(432000, t.secondsLeft(only()));
    }
}
