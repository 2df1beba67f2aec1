package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.modnet.capture.TcpLinesTest.bytes;
import static org.modnet.capture.TcpLinesTest.linuxSynOptions;
import static org.modnet.capture.TcpLinesTest.segment;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.capture.file.PcapWriter;

/**
 * The same segments, printed here and by the machine's own tcpdump reading them from a pcap file:
 * the lines must be the same, word for word. Skipped where tcpdump is not installed.
 */
class TcpdumpAgreesTest {
    private static final Path TCPDUMP = Path.of("/usr/bin/tcpdump");
    private static final int C = 0x0a000001;
    private static final int S = 0x0a000002;
    private static final int SYN = TcpPrinter.TH_SYN;
    private static final int ACK = TcpPrinter.TH_ACK;
    private static final int FIN = TcpPrinter.TH_FIN;
    private static final int RST = TcpPrinter.TH_RST;
    private static final int PSH = TcpPrinter.TH_PUSH;

    @TempDir
    Path dir;

    static List<byte[]> conversation() {
        List<byte[]> l = new ArrayList<>();
        byte[] none = new byte[0];
        byte[] ts = bytes(1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8);
        l.add(segment(C, 40000, S, 5000, 1000000, 0, SYN, 64240, linuxSynOptions(123, 0), 0));
        l.add(segment(S, 5000, C, 40000, 2000000, 1000001, SYN | ACK, 65160, linuxSynOptions(456, 123), 0));
        l.add(segment(C, 40000, S, 5000, 1000001, 2000001, ACK, 502, ts, 0));
        l.add(segment(C, 40000, S, 5000, 1000001, 2000001, PSH | ACK, 502, ts, 100));
        l.add(segment(S, 5000, C, 40000, 2000001, 1000101, ACK, 509, ts, 0));
        byte[] sack = ByteBuffer.allocate(24).put(new byte[] { 1, 1, 5, 18 }).putInt(1000201).putInt(1000301).putInt(1000401)
                .putInt(1000501).put(new byte[] { 1, 1 }).array();
        l.add(segment(S, 5000, C, 40000, 2000001, 1000101, ACK, 509, sack, 0));
        l.add(segment(C, 40000, S, 5000, 1000101, 2000001, FIN | ACK, 502, none, 0));
        l.add(segment(S, 5000, C, 40000, 2000001, 1000102, FIN | ACK, 509, none, 0));
        l.add(segment(C, 40000, S, 5000, 1000102, 2000002, ACK, 502, none, 0));
        // a SYN to a closed port and its answer
        l.add(segment(C, 40001, S, 6000, 3000000, 0, SYN, 64240, linuxSynOptions(7, 0), 0));
        l.add(segment(S, 6000, C, 40001, 0, 3000001, RST | ACK, 0, none, 0));
        // flags, urgent data, odd and malformed options
        l.add(segment(C, 40002, S, 7000, 5, 0, RST, 0, none, 0));
        l.add(segment(C, 40002, S, 7000, 5, 0, 0, 0, none, 0));
        l.add(segment(C, 40002, S, 7000, 5, 0, SYN | TcpPrinter.TH_ECE | TcpPrinter.TH_CWR, 100, none, 0));
        l.add(segment(C, 40002, S, 7000, 5, 0, 0xff, 100, none, 3));
        l.add(segment(C, 40003, S, 7000, 9, 0, SYN, 100, bytes(1, 1, 2, 10), 0));
        l.add(segment(C, 40003, S, 7000, 9, 0, SYN, 100, bytes(3, 1, 0, 0), 0));
        l.add(segment(C, 40003, S, 7000, 9, 0, SYN, 100, bytes(2, 3, 0x05, 0xb4, 1, 0, 0, 0), 0));
        l.add(segment(C, 40003, S, 7000, 9, 0, SYN, 100, bytes(99, 4, 0xab, 0xcd, 99, 2, 0, 0), 0));
        l.add(segment(C, 40003, S, 7000, 9, 0, SYN, 100, bytes(5, 7, 1, 2, 3, 4, 5, 0), 0));
        l.add(segment(C, 40003, S, 7000, 9, 0, SYN, 100, bytes(28, 4, 0x01, 0x2d, 6, 6, 0, 0, 0, 42, 0, 0), 0));
        l.add(segment(C, 40003, S, 7000, 9, 0, SYN, 100, bytes(0, 1, 1, 1), 0));
        byte[] reset = segment(C, 40002, S, 7000, 5, 0, RST, 0, none, 40);
        for (int i = 0; i < 8; i++) {
            reset[54 + i] = (byte) new int[] { 'n', 'o', 0x01, 0x7f, 0x80, 0xc1, ' ', 0xff }[i];
        }
        TcpLinesTest.fixChecksums(reset);
        l.add(reset);
        byte[] shortHeader = segment(C, 40004, S, 7000, 1, 0, SYN, 100, none, 8);
        shortHeader[34 + 12] = 0x40;
        l.add(shortHeader);
        byte[] badSum = segment(C, 40004, S, 7000, 1, 0, SYN, 100, none, 0);
        badSum[51] ^= 0x10;
        badSum[25] ^= 0x01;
        l.add(badSum);
        // the -v block over other protocols: a UDP datagram and an ICMP echo request
        l.add(ipOnly(17, bytes(0x9c, 0x40, 0xa0, 0x28, 0, 12, 0, 0, 'a', 'b', 'c', 'd')));
        byte[] udp = ipOnly(17, bytes(0x9c, 0x40, 0xa0, 0x28, 0, 12, 0, 0, 'w', 'x', 'y', 'z', 'q'));
        udp[14 + 20 + 5] = 13;
        int sum = ~TcpPrinter.sum(new Frame(udp), 34, 13, 17, 6) & 0xffff;
        udp[40] = (byte) (sum >> 8);
        udp[41] = (byte) sum;
        l.add(udp);
        byte[] badUdp = udp.clone();
        badUdp[41] ^= 4;
        l.add(badUdp);
        l.add(ipOnly(1, bytes(8, 0, 0xf7, 0xf5, 0, 7, 0, 3, 0, 0, 0, 0)));
        l.add(ipOnly(1, bytes(8, 0, 0xf7, 0xf3, 0, 7, 0, 3, 0, 0, 0, 0)));
        // ICMP errors: with -v tcpdump goes on with the datagram each quotes
        byte[] echo = ipOnly(1, bytes(8, 0, 0xf7, 0xf5, 0, 7, 0, 3, 0, 0, 0, 0));
        l.add(icmpError(3, 3, 0, Arrays.copyOfRange(echo, 14, echo.length)));
        l.add(icmpError(3, 3, 0, Arrays.copyOfRange(udp, 14, udp.length)));
        byte[] syn = segment(C, 40005, S, 80, 77, 0, SYN, 64240, linuxSynOptions(9, 0), 0);
        l.add(icmpError(11, 0, 0, Arrays.copyOfRange(syn, 14, 14 + 28)));
        l.add(icmpError(3, 4, 1400, Arrays.copyOfRange(syn, 14, syn.length)));
        l.add(icmpError(3, 1, 0, Arrays.copyOfRange(syn, 14, 14 + 12)));
        return l;
    }

    /** An ICMP error (type, code, the 32 bits after the checksum) from S to C, quoting {@code quoted}; checksums right. */
    private static byte[] icmpError(int type, int code, int rest, byte[] quoted) {
        byte[] icmp = ByteBuffer.allocate(8 + quoted.length).put((byte) type).put((byte) code).putShort((short) 0).putInt(rest)
                .put(quoted).array();
        byte[] f = ipOnly(1, icmp);
        int sum = ~TcpPrinter.sum(new Frame(f), 34, icmp.length, -1, 2) & 0xffff;
        f[36] = (byte) (sum >> 8);
        f[37] = (byte) sum;
        return f;
    }

    /** An IPv4 packet (id 1, no DF, ttl 64, correct header checksum) around {@code l4}. */
    private static byte[] ipOnly(int proto, byte[] l4) {
        ByteBuffer b = ByteBuffer.allocate(34 + l4.length);
        b.put(new byte[12]).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length)).putShort((short) 1).putShort((short) 0)
                .put((byte) 64).put((byte) proto).putShort((short) 0).putInt(C).putInt(S).put(l4);
        byte[] a = b.array();
        long sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((a[i] & 0xff) << 8) | (a[i + 1] & 0xff);
        }
        int ip = ~TcpPrinter.fold(sum) & 0xffff;
        a[24] = (byte) (ip >> 8);
        a[25] = (byte) ip;
        return a;
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "-S", "-v", "-vv", "-q", "-X", "-XX" })
    void linesMatchTcpdumpsOwn(String flag) throws Exception {
        assumeTrue(Files.isExecutable(TCPDUMP), "tcpdump is not installed");
        List<byte[]> frames = conversation();
        Path pcap = dir.resolve("tcp.pcap");
        try (OutputStream out = Files.newOutputStream(pcap); PcapWriter w = new PcapWriter(out, 262144)) {
            long t = 1_700_000_000_000_000_000L;
            for (byte[] f : frames) {
                w.write(t += 1000, f, f.length);
            }
        }
        List<String> cmd = new ArrayList<>(List.of(TCPDUMP.toString(), "-n", "-t", "-r", pcap.toString()));
        if (!flag.isEmpty()) {
            cmd.add(flag);
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String theirs = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);

        int v = flag.startsWith("-v") ? flag.length() - 1 : 0;
        Printer printer = new Printer(false, v, flag.equals("-S"), flag.equals("-q"), TcpPrinter.DEFAULT_MAX_FLOWS);
        StringBuilder ours = new StringBuilder();
        for (byte[] f : frames) {
            String line = printer.line(new Frame(f), Instant.EPOCH);
            if (flag.startsWith("-X")) {
                line += Printer.hex(f, flag.equals("-XX") || printer.truncated());
            }
            ours.append(line, line.indexOf(' ') + 1, line.length()).append('\n');
        }
        assertEquals(theirs, ours.toString());
    }
}
