package org.modnet.packetdrill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.modnet.packetdrill.Expression.Ellipsis;
import org.modnet.packetdrill.Expression.Int;
import org.modnet.packetdrill.Expression.ListOf;
import org.modnet.packetdrill.Expression.Word;
import org.modnet.packetdrill.Packet.Direction;

/**
 * Google's packetdrill scripts, read where they lie ({@code ../shared/packetdrill} beside the
 * repository, the {@code modnet.packetdrill} property): the TCP development suite and the
 * interpreter's self-tests must parse, and a few lines must give exactly what they say.
 */
class SuiteTest {

    static Path suite() {
        String dir = System.getProperty("modnet.packetdrill", "../../../shared/packetdrill");
        Path path = Paths.get(dir).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isDirectory(path.resolve("gtests/net/tcp")),
                "the packetdrill scripts are not at " + path + " (set -Dmodnet.packetdrill=DIR)");
        return path;
    }

    private static List<Path> scripts(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.toString().endsWith(".pkt")).sorted().toList();
        }
    }

    private static Script tcp(String name) throws IOException, ScriptException {
        return Parser.parse(suite().resolve("gtests/net/tcp").resolve(name));
    }

    /** The event whose time column is on this line. */
    private static Event at(Script s, int line) {
        return s.events().stream().filter(e -> e.line() == line).findFirst()
                .orElseThrow(() -> new AssertionError("no event on line " + line + " of " + s.path()));
    }

    @Test
    void everyTcpScriptParses() throws IOException {
        Path tcp = suite().resolve("gtests/net/tcp");
        Map<String, int[]> perDirectory = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        for (Path p : scripts(tcp)) {
            int[] count = perDirectory.computeIfAbsent(tcp.relativize(p).getParent().toString(), d -> new int[2]);
            count[1]++;
            try {
                Script s = Parser.parse(p);
                assertFalse(s.events().isEmpty());
                assertTrue(s.initCommand().isPresent(), p + " runs defaults.sh first");
                count[0]++;
            } catch (ScriptException e) {
                failures.add(e.getMessage());
            }
        }
        int parsed = perDirectory.values().stream().mapToInt(c -> c[0]).sum();
        int total = perDirectory.values().stream().mapToInt(c -> c[1]).sum();
        perDirectory.forEach((d, c) -> System.out.printf("packetdrill parse: %-20s %d of %d%n", d, c[0], c[1]));
        System.out.printf("packetdrill parse: gtests/net/tcp: %d of %d scripts parsed%n", parsed, total);
        assertEquals(30, total, "the development suite has 30 scripts");
        assertEquals(List.of(), failures);
    }

    /**
     * The self-tests parse, unless their {@code // Failure:} line predicts a parse-time error, which
     * must then be the one given; a runtime failure must name an event the script has.
     */
    @Test
    void selfTestsParseOrFailAsTheirFailureLineSays() throws IOException {
        Pattern failure = Pattern.compile("//\\s*Failure:\\s*(.*)");
        int checked = 0;
        for (Path p : scripts(suite().resolve("gtests/net/packetdrill/tests"))) {
            List<String> lines = Files.readAllLines(p);
            String expected = null;
            int failureLine = 0;
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = failure.matcher(lines.get(i));
                if (m.find()) {
                    expected = m.group(1).strip();
                    failureLine = i + 1;
                }
            }
            boolean parseTime = expected != null && (expected.contains("parse error")
                    || expected.contains("semantic error") || expected.contains("should be at time 0")
                    || expected.contains("time goes backward"));
            try {
                Script s = Parser.parse(p);
                if (parseTime) {
                    fail(p + " parsed, but its Failure line expects: " + expected);
                }
                if (expected != null) {
                    int after = failureLine;
                    assertTrue(s.events().stream().anyMatch(e -> e.line() > after),
                            p + ": the failing event after line " + failureLine + " is parsed");
                }
            } catch (ScriptException e) {
                if (!parseTime || !Pattern.compile(expected).matcher(e.getMessage()).find()) {
                    fail(p + ": " + e.getMessage() + (expected == null ? "" : " (expected: " + expected + ")"));
                }
            }
            checked++;
        }
        System.out.printf("packetdrill parse: gtests/net/packetdrill/tests: %d self-tests checked%n", checked);
        assertEquals(5, checked);
    }

    @Test
    void serverSynWithSackAndWscale() throws Exception {
        Script s = tcp("fast_retransmit/fr-4pkt-sack.pkt");
        Event e = at(s, 14);
        assertEquals(new EventTime(EventTime.Type.RELATIVE, 100_000, EventTime.NO_RANGE), e.time());
        TcpPacket syn = assertInstanceOf(TcpPacket.class, e.action());
        assertEquals(Direction.INBOUND, syn.direction());
        assertEquals("S", syn.flags().text());
        assertEquals(0, syn.startSeq());
        assertEquals(0, syn.payloadLength());
        assertEquals(32792, syn.window());
        assertEquals(List.of(new TcpOption.Mss(1460), new TcpOption.SackPermitted(), new TcpOption.Nop(),
                new TcpOption.Nop(), new TcpOption.Nop(), new TcpOption.WindowScale(7, false)), syn.options());
        assertEquals("../common/defaults.sh", s.initCommand().orElseThrow().command());
    }

    @Test
    void zeroWindowProbesInTimeWindowsAndMultiLineInitCommand() throws Exception {
        Script s = tcp("slow_start/slow-start-after-win-update.pkt");
        assertEquals(new EventTime(EventTime.Type.RELATIVE_RANGE, 300_000, 310_000), at(s, 34).time());
        assertEquals(new EventTime(EventTime.Type.RELATIVE_RANGE, 1_200_000, 1_240_000), at(s, 42).time());
        TcpPacket probe = assertInstanceOf(TcpPacket.class, at(s, 34).action());
        assertEquals(Direction.OUTBOUND, probe.direction());
        assertEquals(26000, probe.startSeq());
        assertEquals(26000, probe.endSeq());
        assertEquals(1, probe.ack());
        assertTrue(probe.flags().ack());
        assertEquals(4, s.initCommand().orElseThrow().line());
        assertTrue(s.initCommand().orElseThrow().command().contains("tcp_min_tso_segs=10"));
        assertEquals("/tmp/sysctl_restore_${PPID}.sh", s.cleanupCommand().orElseThrow().command());
    }

    @Test
    void blockingReadsHaveTheirReturnTimes() throws Exception {
        Script s = tcp("blocking/blocking-read.pkt");
        assertEquals(10_000, s.config().toleranceUsecs());
        SystemCall read = assertInstanceOf(SystemCall.class, at(s, 21).action());
        assertEquals(new EventTime(EventTime.Type.RELATIVE, 100_000, EventTime.NO_RANGE), at(s, 21).time());
        assertEquals(OptionalLong.of(200_000), read.blockingEndUsecs());
        assertEquals(List.of(new Int(4, false), new Ellipsis(), new Int(2000, false)), read.arguments());
        assertEquals(new Int(2000, false), read.result());
        assertEquals(OptionalLong.of(0), assertInstanceOf(SystemCall.class, at(s, 28).action()).blockingEndUsecs());
    }

    @Test
    void threeSackBlocks() throws Exception {
        TcpPacket p = assertInstanceOf(TcpPacket.class,
                at(tcp("sack/sack-shift-sacked-2-6-8-3-9-nofack.pkt"), 41).action());
        assertEquals(List.of(new TcpOption.Sack(List.of(new TcpOption.Sack.Block(2001, 4001),
                new TcpOption.Sack.Block(6001, 7001), new TcpOption.Sack.Block(8001, 10001))), new TcpOption.Nop(),
                new TcpOption.Nop()), p.options());
        assertEquals(257, p.window());
        assertEquals(1, p.ack());
    }

    @Test
    void errnoResults() throws Exception {
        SystemCall connect = assertInstanceOf(SystemCall.class, at(tcp("close/close-on-syn-sent.pkt"), 9).action());
        assertEquals(new Int(-1, false), connect.result());
        assertEquals(Optional.of("EINPROGRESS"), connect.errno());
        assertEquals(Optional.of("Operation now in progress"), connect.strerror());
        SystemCall write = assertInstanceOf(SystemCall.class, at(tcp("shutdown/shutdown-rdwr-close.pkt"), 23).action());
        assertEquals(Optional.of("EPIPE"), write.errno());
        assertEquals(Optional.of("Broken pipe"), write.strerror());
    }

    @Test
    void timestampsAndScriptOptions() throws Exception {
        Script s = tcp("ts_recent/fin_tsval.pkt");
        assertEquals(7000, s.config().toleranceUsecs());
        assertEquals(1000, s.config().tcpTsTickUsecs());
        assertEquals(2, s.options().size());
        TcpPacket fin = assertInstanceOf(TcpPacket.class, at(s, 22).action());
        assertTrue(fin.flags().fin() && fin.flags().ack());
        assertEquals(List.of(new TcpOption.Nop(), new TcpOption.Nop(), new TcpOption.Timestamp(1200, 200)),
                fin.options());
    }

    @Test
    void noFlagsFinPushAndPointerArguments() throws Exception {
        TcpPacket none = assertInstanceOf(TcpPacket.class,
                at(tcp("validate/validate-established-no-flags.pkt"), 18).action());
        assertEquals("", none.flags().text());
        assertFalse(none.flags().ack());
        assertEquals(0, none.ack());
        TcpPacket finPush = assertInstanceOf(TcpPacket.class, at(tcp("ioctl/ioctl-siocinq-fin.pkt"), 27).action());
        assertTrue(finPush.flags().fin() && finPush.flags().psh() && finPush.flags().ack());
        assertEquals(1001, finPush.startSeq());
        assertEquals(2001, finPush.endSeq());
        SystemCall mtu = assertInstanceOf(SystemCall.class, at(tcp("sack/sack-route-refresh-ip-tos.pkt"), 9).action());
        assertEquals(List.of(new Int(3, false), new Word("SOL_IP"), new Word("IP_MTU_DISCOVER"),
                new ListOf(List.of(new Word("IP_PMTUDISC_DONT"))), new Int(1, false)), mtu.arguments());
    }

    @Test
    void pythonSnippetsKeepTheirLines() throws Exception {
        Script s = tcp("fast_recovery/prr-ss-10pkt-lost-1.pkt");
        PythonCode code = assertInstanceOf(PythonCode.class, at(s, 31).action());
        assertEquals(new EventTime(EventTime.Type.RELATIVE, 10_000, EventTime.NO_RANGE), at(s, 31).time());
        assertEquals("""

                assert tcpi_ca_state == TCP_CA_Recovery, tcpi_ca_state
                assert tcpi_snd_cwnd == 7, tcpi_snd_cwnd
                assert tcpi_snd_ssthresh == 7, tcpi_snd_ssthresh
                """, code.code());
    }

    /** Every symbol and errno name the suite's system calls use has its Linux value. */
    @Test
    void everySymbolOfTheSuiteResolves() throws IOException, ScriptException {
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (Path p : scripts(suite().resolve("gtests/net"))) {
            for (Event e : Parser.parse(p).events()) {
                if (e.action() instanceof SystemCall c) {
                    c.arguments().forEach(a -> words(a, names));
                    words(c.result(), names);
                    c.errno().ifPresent(names::add);
                }
            }
        }
        List<String> unknown = names.stream().filter(n -> Symbols.value(n).isEmpty()).toList();
        System.out.printf("packetdrill symbols: %d names used, all resolved: %s%n", names.size(), unknown.isEmpty());
        assertTrue(names.size() > 20, names.toString());
        assertEquals(List.of(), unknown);
    }

    private static void words(Expression e, java.util.Set<String> names) {
        switch (e) {
            case Word w -> names.add(w.name());
            case Expression.Binary b -> {
                words(b.left(), names);
                words(b.right(), names);
            }
            case ListOf l -> l.elements().forEach(x -> words(x, names));
            default -> {
            }
        }
    }

    /** Every TCP packet line of the suite, printed back in script syntax, parses to the same packet. */
    @Test
    void everyPacketLinePrintsBackToItself() throws IOException, ScriptException {
        int packets = 0;
        for (Path p : scripts(suite().resolve("gtests/net"))) {
            for (Event e : Parser.parse(p).events()) {
                if (e.action() instanceof TcpPacket packet) {
                    Event again = Parser.parse("again.pkt", "0 " + packet.toScript(), CommandLine.NONE).events()
                            .getFirst();
                    assertEquals(packet, again.action(), p + ":" + e.line());
                    packets++;
                }
            }
        }
        assertTrue(packets > 300, "packets: " + packets);
    }

    /** The suite's scripts, mutated (seeded): each gives a script or a ScriptException, never another throw. */
    @Test
    void mutatedSuiteScriptsNeverThrowAnythingButAScriptError() throws IOException {
        List<String> bases = new ArrayList<>();
        for (Path p : scripts(suite().resolve("gtests/net"))) {
            bases.add(Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        String alphabet = "0123456789:.()<>[]{},=|+*~-`\"%/ \n\tSackwinmsTSvalecr...xEFP#\\";
        java.util.Random random = new java.util.Random(2026);
        int parsed = 0;
        int refused = 0;
        for (int i = 0; i < 5_000; i++) {
            StringBuilder b = new StringBuilder(bases.get(random.nextInt(bases.size())));
            for (int e = 1 + random.nextInt(8); e > 0; e--) {
                int at = random.nextInt(b.length());
                switch (random.nextInt(4)) {
                    case 0 -> b.deleteCharAt(at);
                    case 1 -> b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    case 2 -> b.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    default -> {
                        int from = random.nextInt(b.length());
                        b.insert(at, b.substring(from, Math.min(b.length(), from + 20)));
                    }
                }
            }
            try {
                Parser.parse("m.pkt", b.toString(), CommandLine.NONE);
                parsed++;
            } catch (ScriptException e) {
                assertTrue(e.getMessage().matches("(?s)m\\.pkt(:\\d+)?: .+"), e.getMessage());
                refused++;
            }
        }
        System.out.printf("packetdrill parse: 5000 mutated suite scripts: %d parsed, %d refused%n", parsed, refused);
        assertTrue(parsed > 0 && refused > 0);
    }
}
