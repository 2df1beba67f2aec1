package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Instant;

import org.junit.jupiter.api.Test;

/** tcpdump's TCP lines (print-tcp.c's form), on segments built by a helper. */
class TcpLinesTest {
    private static final int CLIENT = 0x0a000001;
    private static final int SERVER = 0x0a000002;
    private static final Instant T = Instant.parse("2026-12-04T12:00:00.000001Z");
    private static final int SYN = TcpPrinter.TH_SYN;
    private static final int ACK = TcpPrinter.TH_ACK;
    private static final int FIN = TcpPrinter.TH_FIN;
    private static final int RST = TcpPrinter.TH_RST;
    private static final int PSH = TcpPrinter.TH_PUSH;

    /** The options Linux puts on a SYN: mss 1460, sackOK, TS, nop, wscale 7. */
    static byte[] linuxSynOptions(int tsval, int tsecr) {
        return ByteBuffer.allocate(20).put(new byte[] { 2, 4, 0x05, (byte) 0xb4, 4, 2, 8, 10 }).putInt(tsval).putInt(tsecr)
                .put(new byte[] { 1, 3, 3, 7 }).array();
    }

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    /** Ethernet + IPv4 (DF, ttl 64) + TCP with these fields, options (a multiple of 4) and payload; checksums correct. */
    static byte[] segment(int src, int sport, int dst, int dport, long seq, long ack, int flags, int win, byte[] options,
            int payload) {
        int tcpLen = 20 + options.length + payload;
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + tcpLen);
        b.put(new byte[12]).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + tcpLen)).putShort((short) 1).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 6).putShort((short) 0).putInt(src).putInt(dst);
        b.putShort((short) sport).putShort((short) dport).putInt((int) seq).putInt((int) ack)
                .put((byte) (((20 + options.length) / 4) << 4)).put((byte) flags).putShort((short) win).putShort((short) 0)
                .putShort((short) 0).put(options);
        for (int i = 0; i < payload; i++) {
            b.put((byte) 'x');
        }
        byte[] a = b.array();
        fixChecksums(a);
        return a;
    }

    /** Sets the IPv4 header's and the TCP segment's checksums of a frame built here. */
    static byte[] fixChecksums(byte[] a) {
        int tcpLen = a.length - 34;
        a[50] = 0;
        a[51] = 0;
        a[24] = 0;
        a[25] = 0;
        Frame f = new Frame(a);
        int sum = ~TcpPrinter.sumWithoutField(f, 34, tcpLen) & 0xffff;
        a[50] = (byte) (sum >> 8);
        a[51] = (byte) sum;
        long ipSum = 0;
        for (int i = 14; i < 34; i += 2) {
            ipSum += ((a[i] & 0xff) << 8) | (a[i + 1] & 0xff);
        }
        int ip = ~TcpPrinter.fold(ipSum) & 0xffff;
        a[24] = (byte) (ip >> 8);
        a[25] = (byte) ip;
        return a;
    }

    private static String body(Printer p, byte[] frame) {
        String line = p.line(new Frame(frame), T);
        return line.substring(line.indexOf(' ') + 1);
    }

    private static Printer printer() {
        return new Printer(false);
    }

    @Test
    void aSynWithLinuxsOptionsReadsAsTcpdumpPrintsIt() {
        byte[] syn = segment(CLIENT, 40000, SERVER, 5000, 1000000, 0, SYN, 64240, linuxSynOptions(123, 0), 0);
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [S], seq 1000000, win 64240, "
                + "options [mss 1460,sackOK,TS val 123 ecr 0,nop,wscale 7], length 0", body(printer(), syn));
    }

    @Test
    void aHandshakeSetsTheNumbersLaterSegmentsPrintRelativeTo() {
        Printer p = printer();
        body(p, segment(CLIENT, 40000, SERVER, 5000, 1000000, 0, SYN, 64240, linuxSynOptions(123, 0), 0));
        assertEquals("IP 10.0.0.2.5000 > 10.0.0.1.40000: Flags [S.], seq 2000000, ack 1000001, win 65160, "
                + "options [mss 1460,sackOK,TS val 456 ecr 123,nop,wscale 7], length 0",
                body(p, segment(SERVER, 5000, CLIENT, 40000, 2000000, 1000001, SYN | ACK, 65160, linuxSynOptions(456, 123), 0)),
                "the SYN|ACK records the conversation and prints absolute");
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [.], ack 1, win 502, length 0",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 1000001, 2000001, ACK, 502, new byte[0], 0)));
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [P.], seq 1:101, ack 1, win 502, length 100",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 1000001, 2000001, PSH | ACK, 502, new byte[0], 100)));
        assertEquals("IP 10.0.0.2.5000 > 10.0.0.1.40000: Flags [.], ack 101, win 509, length 0",
                body(p, segment(SERVER, 5000, CLIENT, 40000, 2000001, 1000101, ACK, 509, new byte[0], 0)));
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [F.], seq 101, ack 1, win 502, length 0",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 1000101, 2000001, FIN | ACK, 502, new byte[0], 0)));
        assertEquals("IP 10.0.0.2.5000 > 10.0.0.1.40000: Flags [F.], seq 1, ack 102, win 509, length 0",
                body(p, segment(SERVER, 5000, CLIENT, 40000, 2000001, 1000102, FIN | ACK, 509, new byte[0], 0)));
        assertEquals(1, p.tcp().flows());
    }

    @Test
    void dashSPrintsAbsoluteNumbersAndKeepsNoTable() {
        Printer p = new Printer(false, 0, true, false, TcpPrinter.DEFAULT_MAX_FLOWS);
        body(p, segment(SERVER, 5000, CLIENT, 40000, 2000000, 1000001, SYN | ACK, 65160, new byte[0], 0));
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [P.], seq 1000001:1000101, ack 2000001, win 502, length 100",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 1000001, 2000001, PSH | ACK, 502, new byte[0], 100)));
        assertEquals(0, p.tcp().flows());
    }

    @Test
    void theResetAnsweringASynToAClosedPortPrintsTheAbsoluteAck() {
        Printer p = printer();
        body(p, segment(CLIENT, 40000, SERVER, 5000, 1000000, 0, SYN, 64240, linuxSynOptions(123, 0), 0));
        assertEquals("IP 10.0.0.2.5000 > 10.0.0.1.40000: Flags [R.], seq 0, ack 1000001, win 0, length 0",
                body(p, segment(SERVER, 5000, CLIENT, 40000, 0, 1000001, RST | ACK, 0, new byte[0], 0)));
    }

    @Test
    void aBareResetNoFlagsAndEcnFlagsUseTcpdumpsLetters() {
        Printer p = printer();
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [R], seq 5000, win 0, length 0",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 5000, 0, RST, 0, new byte[0], 0)));
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [none], win 0, length 0",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 5000, 0, 0, 0, new byte[0], 0)));
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [SEW], seq 7, win 100, length 0",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 7, 0, SYN | TcpPrinter.TH_ECE | TcpPrinter.TH_CWR, 100, new byte[0], 0)));
        byte[] urgent = segment(CLIENT, 40000, SERVER, 5000, 7, 0, 0x2f, 100, new byte[0], 0);
        urgent[34 + 19] = 3; // the urgent pointer; without -v the checksum is not looked at
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [FSRPU], seq 7, win 100, urg 3, length 0", body(p, urgent));
    }

    @Test
    void sackBlocksAndUnknownOptionsAreSpelledAsTcpdumpSpellsThem() {
        Printer p = printer();
        body(p, segment(SERVER, 5000, CLIENT, 40000, 2000000, 1000001, SYN | ACK, 65160, new byte[0], 0));
        byte[] opts = ByteBuffer.allocate(16).put(new byte[] { 1, 1, 5, 10 }).putInt(2000101).putInt(2000201)
                .put(new byte[] { 99, 4, (byte) 0xab, (byte) 0xcd }).array();
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [.], ack 1, win 502, "
                + "options [nop,nop,sack 1 {101:201},unknown-99 0xabcd], length 0",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 1000001, 2000001, ACK, 502, opts, 0)));
    }

    @Test
    void malformedOptionsEndTheLineWithBadOptAsTcpdumpDoes() {
        Printer p = printer();
        // an option claiming more bytes than the header has left
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [S], seq 1, win 100, options [nop,nop,[bad opt]]",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 1, 0, SYN, 100, bytes(1, 1, 2, 10), 0)));
        // first option already bad: tcpdump closes no bracket
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [S], seq 1, win 100, options [[bad opt]",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 1, 0, SYN, 100, bytes(3, 1, 0, 0), 0)));
        // an mss whose length byte says 3: tcpdump reads its two bytes, says [len 3], and goes on from there
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: Flags [S], seq 1, win 100, options [mss 1460[len 3],nop,eol], length 0",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 1, 0, SYN, 100, bytes(2, 3, 0x05, 0xb4, 1, 0, 0, 0), 0)));
        // a data offset below 5 words
        byte[] shortHeader = segment(CLIENT, 40000, SERVER, 5000, 1, 0, SYN, 100, new byte[0], 0);
        shortHeader[34 + 12] = 0x40;
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000:  tcp 4 [bad hdr length 16 - too short, < 20]", body(p, shortHeader));
    }

    @Test
    void theConversationTableIsBoundedAndCountsWhatItForgets() {
        Printer p = new Printer(false, 0, false, false, 2);
        for (int port = 40001; port <= 40003; port++) {
            body(p, segment(SERVER, 5000, CLIENT, port, 2000000, 1000001, SYN | ACK, 65160, new byte[0], 0));
        }
        assertEquals(2, p.tcp().flows());
        assertEquals(1, p.tcp().flowsEvicted());
        // the oldest was forgotten: its next segment is recorded afresh and prints absolute
        assertEquals("IP 10.0.0.1.40001 > 10.0.0.2.5000: Flags [.], ack 2000001, win 502, length 0",
                body(p, segment(CLIENT, 40001, SERVER, 5000, 1000001, 2000001, ACK, 502, new byte[0], 0)));
        assertEquals("IP 10.0.0.1.40003 > 10.0.0.2.5000: Flags [.], ack 1, win 502, length 0",
                body(p, segment(CLIENT, 40003, SERVER, 5000, 1000001, 2000001, ACK, 502, new byte[0], 0)));
        assertEquals(2, p.tcp().flowsEvicted());
    }

    @Test
    void dashVPrintsTheIpBlockAndChecksTheTcpChecksum() {
        Printer p = new Printer(false, 1, false, false, TcpPrinter.DEFAULT_MAX_FLOWS);
        byte[] syn = segment(CLIENT, 40000, SERVER, 5000, 1000000, 0, SYN, 64240, linuxSynOptions(123, 0), 0);
        String sum = TcpPrinter.hex4(((syn[50] & 0xff) << 8) | (syn[51] & 0xff));
        assertEquals("IP (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 60)\n"
                + "    10.0.0.1.40000 > 10.0.0.2.5000: Flags [S], cksum 0x" + sum + " (correct), seq 1000000, win 64240, "
                + "options [mss 1460,sackOK,TS val 123 ecr 0,nop,wscale 7], length 0", body(p, syn));
        syn[51] ^= 1;
        String bad = body(p, syn);
        String wrong = TcpPrinter.hex4(((syn[50] & 0xff) << 8) | (syn[51] & 0xff));
        assertTrue(bad.contains("Flags [S], cksum 0x" + wrong + " (incorrect -> 0x" + sum + "), seq 1000000"), bad);
        syn[24] ^= 1;
        assertTrue(body(p, syn).contains("proto TCP (6), length 60, bad cksum "), "the IP header's checksum is checked too");
    }

    @Test
    void dashQKeepsTheShortForm() {
        Printer p = new Printer(false, 0, false, true, TcpPrinter.DEFAULT_MAX_FLOWS);
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000: tcp 100",
                body(p, segment(CLIENT, 40000, SERVER, 5000, 1, 1, PSH | ACK, 502, new byte[0], 100)));
    }

    @Test
    void flagsRunTogetherAsTcpdumpTakesThemAndAnUnknownOneIsRefused() throws Exception {
        String d = FilterOptimizerTest.tcpdump("-d", "tcp");
        assertEquals(d, FilterOptimizerTest.tcpdump("-nnSd", "tcp"));
        assertEquals(d, FilterOptimizerTest.tcpdump("-n", "-S", "-q", "-vv", "-d", "tcp"));
        org.modnet.api.shell.CommandException e = org.junit.jupiter.api.Assertions.assertThrows(
                org.modnet.api.shell.CommandException.class, () -> FilterOptimizerTest.tcpdump("-nSk", "-d", "tcp"));
        assertTrue(e.getMessage().startsWith("tcpdump: invalid option -- 'k'"), e.getMessage());
    }

    @Test
    void aTruncatedSegmentSaysSo() {
        byte[] s = segment(CLIENT, 40000, SERVER, 5000, 1, 0, SYN, 100, new byte[0], 0);
        byte[] cut = java.util.Arrays.copyOf(s, 34 + 10);
        assertEquals("IP 10.0.0.1.40000 > 10.0.0.2.5000:  [|tcp]", body(printer(), cut));
    }

    @Test
    void aPcapOfTcpSegmentsKeepsTheirBytes() throws Exception {
        byte[] syn = segment(CLIENT, 40000, SERVER, 5000, 1000000, 0, SYN, 64240, linuxSynOptions(123, 0), 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (org.modnet.capture.file.PcapWriter w = new org.modnet.capture.file.PcapWriter(out, 262144)) {
            w.write(1_700_000_000_000_000_000L, syn, syn.length);
        }
        byte[] file = out.toByteArray();
        assertEquals(24 + 16 + syn.length, file.length);
        assertEquals(java.util.Arrays.toString(syn), java.util.Arrays.toString(java.util.Arrays.copyOfRange(file, 40, file.length)));
    }

    @Test
    void eachTimeStampOptionPrintsTheLinesTimeAsTcpdumpDoes() {
        byte[] syn = segment(CLIENT, 40000, SERVER, 5000, 1000000, 0, SYN, 64240, linuxSynOptions(123, 0), 0);
        java.time.Instant t0 = java.time.Instant.ofEpochSecond(1764930000L, 123456789);
        java.time.Instant t1 = t0.plusNanos(1_500_250_000L);
        assertTrue(new Printer(false).stamps(1).line(new Frame(syn), t0).startsWith("IP 10.0.0.1.40000 > "), "-t: no time");
        assertTrue(new Printer(false).stamps(2).line(new Frame(syn), t0).startsWith("1764930000.123456 IP "), "-tt: epoch");
        Printer delta = new Printer(false).stamps(3);
        assertTrue(delta.line(new Frame(syn), t0).startsWith("00:00:00.000000 IP "), "-ttt: the first line is 0");
        assertTrue(delta.line(new Frame(syn), t1).startsWith("00:00:01.500250 IP "), "-ttt: since the line before");
        assertTrue(delta.line(new Frame(syn), t1.plusNanos(2000)).startsWith("00:00:00.000002 IP "));
        String date = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS").withZone(java.time.ZoneId.systemDefault())
                .format(t0);
        assertTrue(new Printer(false).stamps(4).line(new Frame(syn), t0).startsWith(date + " IP "), "-tttt: date and time");
        Printer first = new Printer(false).stamps(5);
        first.line(new Frame(syn), t0);
        first.line(new Frame(syn), t1);
        assertTrue(first.line(new Frame(syn), t1.plusNanos(2000)).startsWith("00:00:01.500252 IP "), "-ttttt: since the first");
    }
}
