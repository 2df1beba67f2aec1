package org.modnet.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.modnet.tcp.TcpFuzzHarness.CLOSED_PORT;
import static org.modnet.tcp.TcpFuzzHarness.LOCALHOST;
import static org.modnet.tcp.TcpFuzzHarness.PORT;
import static org.modnet.tcp.TcpFuzzHarness.field;
import static org.modnet.tcp.TcpFuzzHarness.get16;
import static org.modnet.tcp.TcpFuzzHarness.get32;
import static org.modnet.tcp.TcpFuzzHarness.put16;
import static org.modnet.tcp.TcpFuzzHarness.put32;
import static org.modnet.tcp.TcpFuzzHarness.rcvNxt;
import static org.modnet.tcp.TcpFuzzHarness.rcvWindow;
import static org.modnet.tcp.TcpHeader.ACK;
import static org.modnet.tcp.TcpHeader.FIN;
import static org.modnet.tcp.TcpHeader.PSH;
import static org.modnet.tcp.TcpHeader.RST;
import static org.modnet.tcp.TcpHeader.SYN;
import static org.modnet.tcp.TcpHeader.URG;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.modnet.socket.api.Sock;
import org.modnet.tcp.TcpDrops.Reason;
import org.modnet.tcp.TcpFuzzHarness.Outcome;
import org.modnet.tcp.TcpFuzzHarness.Seen;

/**
 * 100,000 mutated segments, seeded, pushed at a listener, a closed port and both ends of an established
 * connection while each end's application keeps writing to the other: bit flips, truncation, bad
 * checksums, bad data offsets, absurd options, impossible flag sets, sequence and acknowledgment numbers
 * in and out of the window. Every segment must end on exactly one fate (a drop reason or consumed), the
 * one a model of RFC 9293 and RFC 5961 as Linux applies them predicts, with the answer that fate owes
 * (a reset, a challenge ACK, a dupack, or the rate limit's skip); the fates add up to the number sent,
 * nothing throws, and each application reads exactly what the other wrote.
 *
 * <p>Segments that would legitimately change the stream — a reset at RCV.NXT, a FIN, bytes other than
 * the sender's own, an ACK of bytes the peer did not get — are what a real peer sends; the generator
 * keeps their mutations but makes such a segment true to the connection, so the data can be checked.
 */
class TcpFuzzTest {
    private static final int SEGMENTS = 100_000;
    private static final int PER_ROUND = 25;
    private static final long SEED = 0x7cf_2026L;

    private final Random r = new Random(SEED);
    private TcpFuzzHarness h;
    private final Map<String, Integer> outcomes = new TreeMap<>();
    /** Stream bytes a fuzzed segment delivered before the real one did. */
    private long fuzzedBytesTaken;

    @Test
    void everyMutatedSegmentLandsOnExactlyOneFateAndTheDataStaysIntact() throws Exception {
        try (TcpFuzzHarness harness = new TcpFuzzHarness(5 << 19, SEED)) {
            h = harness;
            TcpDrops drops = h.s.tcp.net(h.s.ns).drops;
            long fatesBefore = drops.total();
            long csumBefore = h.s.count(TcpMib.Tcp.InCsumErrors);
            int csumFates = 0;
            int sent = 0;
            while (sent < SEGMENTS) {
                h.write(600); // written, on lo, not yet received: the fuzz can carry these bytes first
                for (int i = 0; i < PER_ROUND && sent < SEGMENTS; i++, sent++) {
                    Outcome o = one(sent);
                    if (o.fate() == Reason.TCP_CSUM) {
                        csumFates++;
                    }
                }
                h.s.run();
                h.readAll();
                h.s.advance(1 + r.nextInt(8), 10);
                assertEquals(Sock.TCP_ESTABLISHED, h.ss.state(), "the server end stays established after " + sent);
                assertEquals(Sock.TCP_ESTABLISHED, h.cs.state(), "the client end stays established after " + sent);
            }
            int total = outcomes.values().stream().mapToInt(Integer::intValue).sum();
            System.out.println("TcpFuzzTest: " + sent + " segments; while they came, the applications moved " + h.upRead
                    + " bytes up and " + h.downRead + " down, " + fuzzedBytesTaken + " of them first from fuzzed segments; outcomes: "
                    + outcomes);
            assertTrue(fuzzedBytesTaken > 0, "fuzzed segments carried stream bytes the receiver took");
            assertTrue(h.upRead > h.up.length / 2 && h.downRead > h.down.length / 2, "data flowed both ways meanwhile");
            assertEquals(SEGMENTS, total, "every segment sent has one outcome");
            assertEquals(csumFates, h.s.count(TcpMib.Tcp.InCsumErrors) - csumBefore, "InCsumErrors counts the checksum drops");
            assertTrue(h.finish(200_000), "both streams complete after the fuzzing: up " + h.upRead + ", down " + h.downRead);
            h.assertIntact();
            long fates = drops.total() - fatesBefore;
            assertTrue(fates >= SEGMENTS, "the fates include every fuzzed segment: " + fates);
            assertEquals(h.s.count(TcpMib.Tcp.InSegs), drops.total(), "over the whole run, InSegs equals the fates counted");
        }
    }

    @Test
    void segmentsAtClosingConnectionsAndTimeWaitEachLandOnExactlyOneFate() {
        Map<String, Integer> states = new TreeMap<>();
        int[] per = new int[12];
        int[] closing = { TcpSock.TCP_FIN_WAIT2, Sock.TCP_CLOSE_WAIT, TcpSock.TCP_LAST_ACK, TcpSock.TCP_TIME_WAIT };
        for (int episode = 0; episode < 40 && Arrays.stream(closing).anyMatch(st -> per[st] < 300); episode++) {
            try (TcpFuzzHarness harness = new TcpFuzzHarness(4096, SEED + episode)) {
                h = harness;
                assertTrue(h.finish(1000));
                // the client half-closes: FIN-WAIT-2 against CLOSE-WAIT, until a segment moves either on
                assertEquals(0, h.sys.shutdown(h.client, org.modnet.socket.api.SocketCalls.SHUT_WR));
                h.s.run();
                anyState(h.cs, TcpSock.TCP_FIN_WAIT2, 400, states, per);
                anyState(h.ss, Sock.TCP_CLOSE_WAIT, 400, states, per);
                // the server closes too: LAST-ACK with its FIN still on lo, then the client's TIME-WAIT
                h.sys.close(h.server);
                anyState(h.ss, TcpSock.TCP_LAST_ACK, 100, states, per);
                h.s.run();
                anyState(h.cs, TcpSock.TCP_TIME_WAIT, 400, states, per); // the timewait sock on the client's 4-tuple
                assertEquals(h.s.count(TcpMib.Tcp.InSegs), h.s.tcp.net(h.s.ns).drops.total(), "InSegs equals the fates counted");
            }
        }
        System.out.println("TcpFuzzTest: closing states (state:fate): " + states);
        for (int st : closing) {
            assertTrue(per[st] >= 300, "state " + st + " got " + per[st] + " segments: " + states);
        }
    }

    /** Whether {@code v}'s 4-tuple is in {@code state}; TIME-WAIT is a timewait sock's, the connection's sock closed. */
    private boolean inState(TcpSock v, int state) {
        if (state == TcpSock.TCP_TIME_WAIT) {
            return h.s.tcp.net(h.s.ns).deathRow.lookup(v.raddr(), v.rport(), v.laddr(), v.lport()) != null;
        }
        return v.state() == state;
    }

    /**
     * Up to {@code n} mutated segments at {@code v} while it is in {@code state}: each counts once and
     * lands on one fate. Stops when a segment moves the connection on (a FIN, an ACK of ours, a reset).
     */
    private void anyState(TcpSock v, int state, int n, Map<String, Integer> states, int[] per) {
        for (int i = 0; i < n && inState(v, state); i++) {
            int rcv = rcvNxt(v);
            int seq = r.nextBoolean() ? rcv - 2 + r.nextInt(4) : rcv + r.nextInt(1 << 16) - (1 << 15);
            int ack = field(v, "sndUna") - 2 + r.nextInt(4);
            byte[] tcp = TcpFuzzHarness.segment(v.rport(), v.lport(), seq, ack, r.nextBoolean() ? flags() : ACK | PSH,
                    r.nextInt(65536), options(false), payload(r.nextInt(3) == 0 ? r.nextInt(200) : 0));
            mutateHeader(tcp);
            if ((tcp[TcpHeader.FLAGS] & RST) != 0 && get32(tcp, TcpHeader.SEQ) == rcv) {
                put32(tcp, TcpHeader.SEQ, rcv + 1); // a reset at RCV.NXT would end the state under test at once
            }
            TcpFuzzHarness.checksum(tcp, v.raddr(), v.laddr());
            damage(tcp);
            Outcome o = h.injectTo(v, truncated);
            if (o.fates() != 1 || o.n(Seen.InSegs) != 1) {
                fail("state " + state + ": a segment must count once in InSegs and land on exactly one fate: " + o + " "
                        + TcpFuzzHarness.hex(truncated));
            }
            states.merge(state + ":" + o.name(), 1, Integer::sum);
            per[state]++;
            if (i % 25 == 24 && state != TcpSock.TCP_TIME_WAIT) { // TIME-WAIT's answers would go to the listener, whose
                h.s.advance(1 + r.nextInt(8), 10);                   // reset at RCV.NXT ends it (as it would in Linux)
            }
        }
    }

    /** One segment, to one of the four targets; checks its outcome against the model and tallies it. */
    private Outcome one(int n) {
        int target = r.nextInt(20);
        if (target < 5) {
            return toListener(n, false);
        }
        if (target == 5) {
            return toListener(n, true);
        }
        return toConnection(target % 2 == 0 ? h.ss : h.cs);
    }

    // --- the listener and a closed port ---

    private Outcome toListener(int n, boolean closed) {
        int sport = 10_000 + n % 20_000; // a port not used again until its request is long gone
        int flags = flags();
        byte[] tcp = TcpFuzzHarness.segment(sport, closed ? CLOSED_PORT : PORT, r.nextInt(), r.nextInt(), flags,
                r.nextInt(65536), options(true), payload(r.nextInt(3) == 0 ? r.nextInt(100) : 0));
        mutateHeader(tcp);
        TcpFuzzHarness.checksum(tcp, LOCALHOST, LOCALHOST);
        boolean damaged = damage(tcp);
        byte[] seg = truncated;
        Outcome o = h.inject(LOCALHOST, LOCALHOST, seg);
        Set<Reason> expect = headerFate(seg, damaged);
        if (expect == null) {
            int f = seg[TcpHeader.FLAGS] & 0xff;
            if (closed) {
                expect = EnumSet.of(Reason.NO_SOCKET);
                check(o, (f & RST) == 0 ? o.n(Seen.OutRsts) == 1 : o.n(Seen.OutSegs) == 0, "a reset unless it is one", seg);
            } else if ((f & RST) != 0) {
                expect = EnumSet.of(Reason.TCP_RESET);
                check(o, o.n(Seen.OutSegs) == 0, "no answer to a reset", seg);
            } else if ((f & ACK) != 0) {
                expect = EnumSet.of(Reason.TCP_FLAGS);
                check(o, o.n(Seen.OutRsts) == 1, "an ACK to a listener is reset", seg);
            } else if ((f & (SYN | FIN)) == SYN) {
                expect = new HashSet<>(EnumSet.of(Reason.TCP_LISTEN_OVERFLOW));
                expect.add(null);
                check(o, o.fate() != null || o.n(Seen.OutSegs) == 1, "a SYN-ACK for a request", seg);
            } else {
                expect = EnumSet.of(Reason.TCP_FLAGS);
                check(o, o.n(Seen.OutSegs) == 0, "no answer", seg);
            }
        }
        return tally(closed ? "closed" : "listen", o, expect, seg);
    }

    // --- an established connection ---

    private Outcome toConnection(TcpSock v) {
        TcpSock p = h.peerOf(v);
        int rcv = rcvNxt(v);
        int wnd = rcvWindow(v);
        int seq = switch (r.nextInt(9)) {
            case 0, 1 -> rcv;
            case 2, 3 -> rcv + r.nextInt(Math.max(wnd, 1));
            case 4 -> rcv - r.nextInt(3000);
            case 5 -> rcv + wnd + 1 + r.nextInt(1 << 20);
            case 6 -> rcv - (1 << 20) - r.nextInt(1 << 28);
            case 7 -> rcv + wnd - r.nextInt(2);
            default -> r.nextInt();
        };
        int sndUna = field(v, "sndUna");
        int sndMax = field(v, "sndMax");
        int maxWindow = field(v, "maxWindow");
        int ack = switch (r.nextInt(7)) {
            case 0, 1, 2 -> sndUna + r.nextInt(rcvNxt(p) - sndUna + 1);
            case 3 -> sndMax + 1 + r.nextInt(1 << 20);
            case 4 -> sndUna - r.nextInt(Math.max(maxWindow, 1));
            case 5 -> sndUna - maxWindow - 1 - r.nextInt(1 << 20);
            default -> r.nextInt();
        };
        int flags = r.nextInt(3) == 0 ? flags() : ACK | (r.nextBoolean() ? PSH : 0);
        int window = r.nextInt(4) == 0 ? r.nextInt(65536) : 65535;
        byte[] tcp = TcpFuzzHarness.segment(v.rport(), v.lport(), seq, ack, flags, window, options(false),
                payload(r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(r.nextBoolean() ? 100 : 1460)));
        mutateHeader(tcp);
        tcp = trueToTheConnection(v, tcp);
        TcpFuzzHarness.checksum(tcp, v.raddr(), v.laddr());
        boolean damaged = damage(tcp);
        byte[] seg = truncated;
        State st = new State(v);
        Outcome o = h.injectTo(v, seg);
        Set<Reason> expect = headerFate(seg, damaged);
        if (expect == null) {
            expect = connectionFate(st, seg, o);
            if (TcpSeq.after(TcpFuzzHarness.rcvNxt(v), st.rcvNxt)) {
                fuzzedBytesTaken += TcpFuzzHarness.rcvNxt(v) - st.rcvNxt;
            }
        }
        return tally(v == h.ss ? "server" : "client", o, expect, seg);
    }

    /** What the model reads of the victim before the segment. */
    private record State(int rcvNxt, int window, int sndUna, int sndMax, int maxWindow) {
        State(TcpSock v) {
            this(TcpFuzzHarness.rcvNxt(v), rcvWindow(v), field(v, "sndUna"), field(v, "sndMax"), field(v, "maxWindow"));
        }
    }

    /** {@code tcp_sequence} as the connection applies it. */
    private static boolean acceptable(State st, int seq, int len, boolean syn, boolean fin) {
        int end = seq + len + (syn ? 1 : 0) + (fin ? 1 : 0);
        return !(TcpSeq.before(end, st.rcvNxt) || TcpSeq.after(seq, st.rcvNxt + st.window)
                || len > 0 && st.window == 0 && seq == st.rcvNxt && end != st.rcvNxt && !fin);
    }

    /** RFC 9293 3.10.7.4 with RFC 5961, in Linux's order: the fates a well-formed segment may have, and its answer. */
    private Set<Reason> connectionFate(State st, byte[] seg, Outcome o) {
        int f = seg[TcpHeader.FLAGS] & 0xff;
        int doff = (seg[TcpHeader.DOFF] >>> 4 & 0xf) * 4;
        int seq = get32(seg, TcpHeader.SEQ);
        int ack = get32(seg, TcpHeader.ACK_SEQ);
        int len = seg.length - doff;
        boolean syn = (f & SYN) != 0;
        boolean rst = (f & RST) != 0;
        if ((f & (ACK | RST | SYN)) == 0) {
            check(o, o.n(Seen.OutSegs) == 0, "no answer to a segment without ACK, RST or SYN", seg);
            return EnumSet.of(Reason.TCP_FLAGS);
        }
        long challenges = o.n(Seen.TCPChallengeACK) + o.n(Seen.TCPACKSkippedChallenge);
        if (o.fate() == Reason.TCP_RFC7323_PAWS) { // RFC 7323 5: before the window, a TSval older than ts_recent
            check(o, !rst && !syn && timestamped(seg), "PAWS rejects only a timestamped segment, never a RST", seg);
            check(o, o.n(Seen.OutSegs) + o.n(Seen.TCPACKSkippedPAWS) == 1, "PAWS: a dupack, or the rate limit's skip", seg);
            return EnumSet.of(Reason.TCP_RFC7323_PAWS);
        }
        if (!acceptable(st, seq, len, syn, (f & FIN) != 0)) {
            if (syn && !rst) {
                check(o, o.n(Seen.TCPSYNChallenge) == 1 && challenges == 1, "RFC 5961 4.2: a challenge ACK to any SYN", seg);
                return EnumSet.of(Reason.TCP_INVALID_SYN);
            }
            if (rst) {
                check(o, o.n(Seen.OutSegs) == 0, "an unacceptable reset is dropped silently", seg);
            } else {
                check(o, o.n(Seen.OutSegs) + o.n(Seen.TCPACKSkippedSeq) == 1, "a dupack, or the rate limit's skip", seg);
            }
            return EnumSet.of(Reason.TCP_OLD_SEQUENCE, Reason.TCP_INVALID_SEQUENCE, Reason.TCP_ZEROWINDOW);
        }
        if (rst) {
            check(o, challenges == 1 && o.n(Seen.OutRsts) == 0, "RFC 5961 3.2: a challenge ACK to a reset not at RCV.NXT", seg);
            return EnumSet.of(Reason.TCP_RESET);
        }
        if (syn) {
            check(o, o.n(Seen.TCPSYNChallenge) == 1 && challenges == 1 && o.n(Seen.InErrs) == 1,
                    "RFC 5961 4.2: a challenge ACK to a SYN, InErrs in ESTABLISHED", seg);
            return EnumSet.of(Reason.TCP_INVALID_SYN);
        }
        if (TcpSeq.after(ack, st.sndMax)) {
            check(o, o.n(Seen.OutSegs) == 0, "an ACK of unsent data is dropped silently in ESTABLISHED", seg);
            return EnumSet.of(Reason.TCP_ACK_UNSENT_DATA);
        }
        if (TcpSeq.before(ack, st.sndUna - st.maxWindow)) {
            check(o, challenges == 1, "RFC 5961 5.2: a challenge ACK to an ACK too old", seg);
            return EnumSet.of(Reason.TCP_TOO_OLD_ACK);
        }
        Set<Reason> taken = new HashSet<>(EnumSet.of(Reason.TCP_OLD_DATA, Reason.TCP_OFO_DROP, Reason.TCP_OFOMERGE, Reason.PROTO_MEM));
        taken.add(null);
        return taken;
    }

    /** Whether the parser would read a timestamp option in the segment. */
    private static boolean timestamped(byte[] tcp) {
        int doff = (tcp[TcpHeader.DOFF] >>> 4 & 0xf) * 4;
        int at = TcpHeader.MIN_LEN;
        while (at < doff) {
            int kind = tcp[at] & 0xff;
            if (kind == TcpOptions.EOL) {
                return false;
            }
            if (kind == TcpOptions.NOP) {
                at++;
                continue;
            }
            if (at + 1 >= doff) {
                return false;
            }
            int size = tcp[at + 1] & 0xff;
            if (size < 2 || size > doff - at) {
                return false;
            }
            if (kind == TcpOptions.TIMESTAMP && size == TcpOptions.LEN_TIMESTAMP) {
                return true;
            }
            at += size;
        }
        return false;
    }

    /** The fates of a segment that does not get past {@code tcp_v4_rcv}'s header checks, or null if it does. */
    private static Set<Reason> headerFate(byte[] seg, boolean damaged) {
        if (seg.length < TcpHeader.MIN_LEN) {
            return EnumSet.of(Reason.PKT_TOO_SMALL);
        }
        int doff = (seg[TcpHeader.DOFF] >>> 4 & 0xf) * 4;
        if (doff < TcpHeader.MIN_LEN || doff > seg.length) {
            return EnumSet.of(Reason.PKT_TOO_SMALL);
        }
        return damaged ? EnumSet.of(Reason.TCP_CSUM) : null;
    }

    private Outcome tally(String target, Outcome o, Set<Reason> expect, byte[] seg) {
        if (o.fates() != 1 || o.n(Seen.InSegs) != 1) {
            fail(target + ": a segment must count once in InSegs and land on exactly one fate, not " + o.fates() + ": " + o + " "
                    + TcpFuzzHarness.hex(seg));
        }
        if (!expect.contains(o.fate())) {
            fail(target + ": expected one of " + expect + " but the fate was " + o.name() + " " + o + " " + TcpFuzzHarness.hex(seg));
        }
        if (o.fate() == Reason.TCP_CSUM) {
            check(o, o.n(Seen.InCsumErrors) == 1 && o.n(Seen.InErrs) == 1, "InCsumErrors and InErrs", seg);
        }
        outcomes.merge(target + ":" + o.name(), 1, Integer::sum);
        return o;
    }

    private static void check(Outcome o, boolean ok, String what, byte[] seg) {
        if (!ok) {
            fail(what + ": " + o + " " + TcpFuzzHarness.hex(seg));
        }
    }

    // --- the generator ---

    private static final int[] IMPOSSIBLE = { SYN | FIN, SYN | RST, SYN | FIN | RST, 0, URG, FIN, RST | FIN, SYN | FIN | ACK,
            SYN | RST | ACK, RST | ACK, SYN, SYN | ACK, FIN | ACK, URG | ACK, 0xff, PSH, FIN | PSH | URG };

    private int flags() {
        return r.nextInt(4) == 0 ? r.nextInt(256) : IMPOSSIBLE[r.nextInt(IMPOSSIBLE.length)];
    }

    /** Options, well-formed or not: absurd values, zero and short lengths, lengths past the header, unknown kinds. */
    private byte[] options(boolean syn) {
        if (r.nextInt(3) == 0) {
            return new byte[0];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int items = 1 + r.nextInt(5);
        for (int i = 0; i < items; i++) {
            switch (r.nextInt(12)) {
                case 0 -> out.writeBytes(Segments.mss(r.nextBoolean() ? 0 : r.nextInt(65536)));
                case 1 -> out.writeBytes(Segments.ws(r.nextBoolean() ? 15 + r.nextInt(241) : r.nextInt(15)));
                case 2 -> out.writeBytes(Segments.sackPerm());
                case 3 -> out.writeBytes(Segments.ts(r.nextInt(), r.nextInt()));
                case 4 -> out.writeBytes(Segments.sack(r.nextInt(), r.nextInt(), r.nextInt(), r.nextInt()));
                case 5 -> out.writeBytes(Segments.raw(2 + r.nextInt(253), 0)); // zero length
                case 6 -> out.writeBytes(Segments.raw(2 + r.nextInt(253), 1)); // length one
                case 7 -> out.writeBytes(Segments.raw(r.nextInt(256), 40 + r.nextInt(216), 0)); // past the header
                case 8 -> out.writeBytes(unknown());
                case 9 -> out.writeBytes(Segments.eol());
                case 10 -> out.writeBytes(Segments.nop());
                default -> out.writeBytes(Segments.raw(r.nextInt(256), r.nextInt(256)));
            }
        }
        byte[] b = Segments.padded(out.toByteArray());
        return b.length > 40 ? Arrays.copyOf(b, 40) : b;
    }

    private byte[] unknown() {
        int len = 2 + r.nextInt(8);
        byte[] b = new byte[len];
        r.nextBytes(b);
        b[0] = (byte) (9 + r.nextInt(200));
        b[1] = (byte) len;
        return b;
    }

    /** Random payload; {@link #trueToTheConnection} makes it the peer's own bytes where the connection would take it. */
    private byte[] payload(int len) {
        byte[] b = new byte[len];
        r.nextBytes(b);
        return b;
    }

    /** Header mutations a sender could make with a valid checksum: a data offset, a flipped header or option bit. */
    private void mutateHeader(byte[] tcp) {
        switch (r.nextInt(10)) {
            case 0 -> tcp[TcpHeader.DOFF] = (byte) (r.nextInt(16) << 4 | tcp[TcpHeader.DOFF] & 0x0f);
            case 1 -> tcp[TcpHeader.DOFF] ^= 0x01; // the reserved bits, AE among them
            case 2 -> {
                int at = TcpHeader.MIN_LEN + r.nextInt(Math.max(tcp.length - TcpHeader.MIN_LEN, 1));
                if (at < tcp.length) {
                    tcp[at] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 3 -> put16(tcp, TcpHeader.URG_PTR, r.nextInt(65536));
            case 4 -> tcp[TcpHeader.FLAGS] ^= (byte) (1 << r.nextInt(8));
            default -> {
            }
        }
    }

    /** What {@link #damage} sends: the damaged copy, or the segment itself. */
    private byte[] truncated;

    /**
     * Damage on the way, after the checksum was set: bit flips, truncation, a broken checksum. Returns
     * whether the segment was damaged; {@link #truncated} holds what goes out. Damage the checksum does
     * not see (flips that cancel in ones' complement) is undone: it would be a mutation the model did
     * not make true to the connection.
     */
    private boolean damage(byte[] tcp) {
        byte[] d = tcp.clone();
        switch (r.nextInt(8)) {
            case 0 -> {
                for (int i = 1 + r.nextInt(3); i > 0; i--) {
                    int at = r.nextInt(d.length * 8);
                    d[at / 8] ^= (byte) (1 << at % 8);
                }
            }
            case 1 -> d = Arrays.copyOf(d, r.nextInt(d.length));
            case 2 -> put16(d, TcpHeader.CHECK, get16(d, TcpHeader.CHECK) ^ (1 + r.nextInt(0xfffe)));
            default -> {
            }
        }
        boolean damaged = d.length < TcpHeader.MIN_LEN || !checksumHolds(d);
        truncated = damaged ? d : tcp;
        return damaged;
    }

    /** Whether the checksum field still verifies (0 and 0xffff are one value in ones' complement). */
    private static boolean checksumHolds(byte[] tcp) {
        int given = get16(tcp, TcpHeader.CHECK);
        byte[] copy = tcp.clone();
        TcpFuzzHarness.checksum(copy, LOCALHOST, LOCALHOST);
        int right = get16(copy, TcpHeader.CHECK);
        return given == right || (given == 0 || given == 0xffff) && (right == 0 || right == 0xffff);
    }

    /**
     * Keeps a segment the connection would take true to it, as its real peer would have sent it: no reset
     * at RCV.NXT, no FIN, payload the peer's own bytes (cut where the peer has written no further), an
     * ACK of no more than the peer received, a window no smaller than the peer's, timestamps the peer's.
     * Everything else the mutations made stays.
     */
    private byte[] trueToTheConnection(TcpSock v, byte[] tcp) {
        int doff = (tcp[TcpHeader.DOFF] >>> 4 & 0xf) * 4;
        if (doff < TcpHeader.MIN_LEN || doff > tcp.length) {
            return tcp;
        }
        State st = new State(v);
        TcpSock p = h.peerOf(v);
        int f = tcp[TcpHeader.FLAGS] & 0xff;
        int seq = get32(tcp, TcpHeader.SEQ);
        int len = tcp.length - doff;
        boolean syn = (f & SYN) != 0;
        if ((f & (ACK | RST | SYN)) == 0) {
            return tcp; // dropped by its flags
        }
        if ((f & RST) != 0) { // a reset is checked before a SYN
            if (seq == st.rcvNxt) {
                put32(tcp, TcpHeader.SEQ, st.window > 1 ? seq + 1 : seq + (1 << 30));
            }
            return tcp;
        }
        if (syn || !acceptable(st, seq, len, false, true) && !acceptable(st, seq, len, false, false)) {
            return tcp; // a SYN is challenged wherever it falls; a segment out of the window gets a dupack
        }
        tcp[TcpHeader.FLAGS] = (byte) (f & ~FIN);
        int ack = get32(tcp, TcpHeader.ACK_SEQ);
        if (TcpSeq.after(ack, rcvNxt(p)) && !TcpSeq.after(ack, st.sndMax)) {
            put32(tcp, TcpHeader.ACK_SEQ, rcvNxt(p)); // not an ACK of bytes the peer never got
        }
        int real = rcvWindow(p) >>> field(p, "rcvWscale");
        if (get16(tcp, TcpHeader.WINDOW) < real) {
            put16(tcp, TcpHeader.WINDOW, Math.min(real, 65535));
        }
        timestampsOfThePeer(v, p, tcp, doff);
        byte[] stream = h.streamTo(v);
        int start = field(p, "iss") + 1;
        int written = h.writtenTo(v);
        for (int i = 0; i < len; i++) {
            if (TcpSeq.before(seq + i, start)) {
                tcp[doff + i] = 0; // before the stream: the receiver never takes it
                continue;
            }
            long k = Integer.toUnsignedLong(seq + i - start);
            if (k >= written) {
                return Arrays.copyOf(tcp, doff + i); // the peer has not written this far: the segment ends here
            }
            tcp[doff + i] = stream[(int) k];
        }
        return tcp;
    }

    /** Every timestamp option the parser would read gets the peer's values: TSval what it sent last, TSecr what it saw. */
    private static void timestampsOfThePeer(TcpSock v, TcpSock p, byte[] tcp, int doff) {
        int at = TcpHeader.MIN_LEN;
        while (at < doff) {
            int kind = tcp[at] & 0xff;
            if (kind == TcpOptions.EOL) {
                return;
            }
            if (kind == TcpOptions.NOP) {
                at++;
                continue;
            }
            if (at + 1 >= doff) {
                return;
            }
            int size = tcp[at + 1] & 0xff;
            if (size < 2 || size > doff - at) {
                return;
            }
            if (kind == TcpOptions.TIMESTAMP && size == TcpOptions.LEN_TIMESTAMP) {
                put32(tcp, at + 2, field(v, "tsRecent"));
                put32(tcp, at + 6, field(p, "tsRecent"));
            }
            at += size;
        }
    }
}
