package org.modnet.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;
import org.modnet.socket.api.SocketCalls;

/**
 * nc's command line, TCP by default and UDP with -u, as OpenBSD's netcat parses and refuses it; the
 * TCP sessions themselves are tested over modnet's TCP (bundles/tcp, NcTcpTest).
 */
class NcCommandTest {
    private final LoopStack stack = new LoopStack();
    private final SocketCalls sys = stack.layer.process("nc", "");

    @AfterEach
    void tearDown() {
        sys.close();
        stack.close();
    }

    private CommandException refused(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        NcCommand nc = new NcCommand(sys, InputStream.nullInputStream(), new PrintStream(out), new PrintStream(out));
        return assertThrows(CommandException.class, () -> nc.run(List.of(args)));
    }

    @Test
    void withoutOperandsItPrintsTheUsage() {
        CommandException e = refused();
        assertTrue(e.getMessage().startsWith("usage: nc [-46dklNnuvz]"), e.getMessage());
        assertEquals(1, e.status());
        assertTrue(refused("10.0.0.2").getMessage().startsWith("usage: nc"));
        assertTrue(refused("-l").getMessage().startsWith("usage: nc"));
    }

    @Test
    void badOptionsAndPortsAreRefusedInOpenBsdWords() {
        assertTrue(refused("-x", "h", "1").getMessage().startsWith("nc: invalid option -- 'x'"));
        assertEquals("nc: port number invalid: 70000", refused("127.0.0.1", "70000").getMessage());
        assertEquals("nc: timeout x is invalid", refused("-w", "x", "127.0.0.1", "1").getMessage());
        assertEquals("nc: cannot use -z and -l", refused("-l", "-z", "5000").getMessage());
        assertTrue(refused("-w").getMessage().startsWith("nc: option requires an argument -- 'w'"));
    }

    @Test
    void tcpIsTheDefaultAndNeedsAStreamProtocol() {
        // this stack has only a datagram protocol: socket(SOCK_STREAM) is ESOCKTNOSUPPORT
        assertEquals("nc: socket: Socket type not supported", refused("127.0.0.1", "5000").getMessage());
        assertEquals("nc: socket: Socket type not supported", refused("-l", "5000").getMessage());
    }
}
