package org.modnet.packetdrill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.modnet.core.StandaloneCore;
import org.modnet.ipv4.RouteService;

/**
 * The {@code packetdrill} command on a stack whose softirq threads run on wall time, as in Felix:
 * each script in a scratch namespace of its own, packetdrill's words, the exit status.
 */
class PacketdrillCommandTest {
    private StandaloneCore stack;
    private PacketdrillCommand command;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @BeforeEach
    void setUp() {
        stack = StandaloneCore.threaded(1, 8192);
        VirtualTestbed.Wiring w = VirtualTestbed.wire(stack);
        command = new PacketdrillCommand(stack.core(), w.sockets(), new RouteService(w.ipv4()));
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aPassingScriptPrintsPassAndExitsZeroAndLeavesNoNamespace() throws Exception {
        Path f = OwnScriptsTest.SCRIPTS.resolve("handshake-passive-options.pkt");
        assertEquals(0, command.run(out, f.toString()), output());
        assertTrue(output().contains(f + " pass"), output());
        assertEquals(1, stack.core().namespaces().size(), "the scratch namespace is gone: " + stack.core().namespaces());
    }

    @Test
    void aFailingScriptPrintsTheErrorLineAndExitsOne() throws Exception {
        // wall time on a shared machine: a wide tolerance, since the words and the status are the point
        Path f = dir.resolve("bad.pkt");
        Files.writeString(f, """
                0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
                +0 bind(3, ..., ...) = 0
                +0 listen(3, 1) = 0
                +.1 < S 0:0(0) win 65535 <mss 1460>
                +0 > S. 0:0(0) ack 1001 <mss 1460>
                """);
        assertEquals(1, command.run(out, "--tolerance_usecs=500000", f.toString()));
        assertTrue(output().contains(f + ":5: error handling packet: live packet field tcp_ack_seq: expected: 1001 (0x3e9) vs actual: 1 (0x1)"),
                output());
        assertTrue(output().contains(f + " failed"), output());
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, command.run(out));
        assertTrue(output().contains("usage: packetdrill"), output());
        assertEquals(2, command.run(out, "--no_such_option", "x.pkt"));
    }
}
