package org.modnet.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modnet.api.shell.CommandException;
import org.modnet.capture.file.PcapWriter;

/**
 * {@code tcpdump -r FILE [-X|-XX] [-c N] [EXPRESSION]}: a capture file's frames through the filter,
 * printed as Linux's tcpdump prints them from the same file (compared line for line where it is
 * installed), and libpcap's words for a file that is missing or not a capture.
 */
class TcpdumpReadTest {
    private static final Path TCPDUMP = Path.of("/usr/bin/tcpdump");

    @TempDir
    Path dir;

    private Path file() throws Exception {
        Path pcap = dir.resolve("read.pcap");
        try (OutputStream out = Files.newOutputStream(pcap); PcapWriter w = new PcapWriter(out, 262144)) {
            long t = 1_700_000_000_000_000_000L;
            for (byte[] f : TcpdumpAgreesTest.conversation()) {
                w.write(t += 1000, f, f.length);
            }
        }
        return pcap;
    }

    /** modnet's tcpdump with these arguments: {stdout, stderr}. */
    private static String[] ours(String... args) throws Exception {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
        try {
            org.apache.felix.service.command.CommandSession session = (org.apache.felix.service.command.CommandSession) java.lang.reflect.Proxy
                    .newProxyInstance(TcpdumpReadTest.class.getClassLoader(),
                            new Class<?>[] { org.apache.felix.service.command.CommandSession.class }, (proxy, m, a) -> null);
            new TcpdumpCommand(null, null, BpfFilterTest.BPF).tcpdump(session, args);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        return new String[] { o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8) };
    }

    private static String linux(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(TCPDUMP.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out;
    }

    @Test
    void readsTheFileThroughTheFilterAsLinuxDoes() throws Exception {
        String pcap = file().toString();
        String[][] cases = { { "-n", "-r", pcap }, { "-n", "-r", pcap, "tcp[tcpflags] & tcp-syn != 0" },
                { "-n", "-X", "-r", pcap, "udp or icmp" }, { "-n", "-XX", "-c", "3", "-r", pcap, "tcp dst port 5000" },
                { "-n", "-r", pcap, "tcp[tcpflags] & (tcp-rst|tcp-fin) != 0 and not src port 5000" } };
        for (String[] args : cases) {
            String[] ours = ours(args);
            assertTrue(ours[1].startsWith("reading from file " + pcap + ", link-type EN10MB (Ethernet), snapshot length 262144\n"), ours[1]);
            if (Files.isExecutable(TCPDUMP)) {
                assertEquals(linux(args), ours[0], String.join(" ", args));
            }
        }
        // without Linux's tcpdump: the filter decides which lines there are
        String syns = ours("-n", "-r", pcap, "tcp[tcpflags] & tcp-syn != 0")[0];
        long want = TcpdumpAgreesTest.conversation().stream().filter(f -> Filter.parse(List.of("tcp[tcpflags] & tcp-syn != 0")).test(new Frame(f)))
                .count();
        assertEquals(want, syns.lines().count());
        assertTrue(want > 2);
        assertTrue(syns.lines().filter(l -> l.matches(".*Flags \\[[^]]*S.*")).count() >= want - 1, syns); // one has a bad header length
        String x = ours("-n", "-X", "-c", "1", "-r", pcap, "icmp")[0];
        assertTrue(x.contains("\n\t0x0000:  4500 "), x);
        assertTrue(ours("-n", "-XX", "-c", "1", "-r", pcap, "icmp")[0].contains("\n\t0x0000:  0000 0000 0000 0000 0000 0000 0800 4500  "));
        assertEquals(2, ours("-n", "-c", "2", "-r", pcap)[0].lines().count());
    }

    @Test
    void aMissingOrForeignFileIsRefusedInLibpcapsWords() throws Exception {
        CommandException none = assertThrows(CommandException.class, () -> ours("-r", dir.resolve("nonexistent").toString()));
        assertEquals("tcpdump: " + dir.resolve("nonexistent") + ": No such file or directory", none.getMessage());
        Path junk = dir.resolve("junk");
        Files.writeString(junk, "junk\n");
        CommandException bad = assertThrows(CommandException.class, () -> ours("-r", junk.toString()));
        assertEquals("tcpdump: unknown file format", bad.getMessage());
    }

    @Test
    void theWrittenFileHoldsOnlyWhatTheFilterKept() throws Exception {
        String pcap = file().toString();
        Path out = dir.resolve("syn.pcap");
        ours("-r", pcap, "-w", out.toString(), "tcp[tcpflags] == tcp-syn");
        String back = ours("-n", "-r", out.toString())[0];
        long want = TcpdumpAgreesTest.conversation().stream().filter(f -> Filter.parse(List.of("tcp[tcpflags] == tcp-syn")).test(new Frame(f)))
                .count();
        assertTrue(want > 2);
        assertEquals(want, back.lines().count(), back);
        assertEquals(0, ours("-n", "-r", out.toString(), "not tcp[tcpflags] == tcp-syn")[0].lines().count());
    }
}
