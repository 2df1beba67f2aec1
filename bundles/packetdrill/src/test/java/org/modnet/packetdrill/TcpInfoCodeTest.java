package org.modnet.packetdrill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.modnet.socket.api.SocketCalls;

/** {@code %{ }%} snippets: TCP_INFO snapshots as tcpi_* names, asserted by Python at the end, or a skip. */
class TcpInfoCodeTest {

    /** Socket calls whose getsockopt(SOL_TCP, TCP_INFO) answers {@code info} (little-endian words), or ENOPROTOOPT. */
    private static SocketCalls tcpInfo(int[] info) {
        return (SocketCalls) Proxy.newProxyInstance(SocketCalls.class.getClassLoader(), new Class<?>[] { SocketCalls.class },
                (proxy, m, args) -> {
                    if (m.getName().equals("getsockopt") && (int) args[1] == 6 && (int) args[2] == 11) {
                        if (info == null) {
                            return -92;
                        }
                        int[] out = (int[]) args[3];
                        System.arraycopy(info, 0, out, 0, Math.min(info.length, out.length));
                        return info.length;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }

    private static boolean python() {
        try {
            return new ProcessBuilder("python3", "-c", "pass").start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void withoutTcpInfoTheScriptIsSkipped() {
        TcpInfoCode code = new TcpInfoCode(Config.defaults());
        ScriptFailure f = assertThrows(ScriptFailure.class,
                () -> code.snapshot(new PythonCode("assert tcpi_snd_cwnd == 10", 7), 7, tcpInfo(null), 4));
        assertTrue(f.skip);
        assertEquals("TCP_INFO not available", f.getMessage());
    }

    @Test
    void snippetsSeeTheirOwnSnapshotAndShareVariables() throws Exception {
        Assumptions.assumeTrue(python(), "python3 not installed");
        int[] info = new int[60];
        info[0] = 1 | 0 << 8; // tcpi_state ESTABLISHED, ca_state Open
        info[80 / 4] = 10; // tcpi_snd_cwnd
        info[16 / 4] = 1460; // tcpi_snd_mss
        TcpInfoCode code = new TcpInfoCode(Config.defaults());
        code.snapshot(new PythonCode("assert tcpi_state == TCP_ESTABLISHED\ncwnd = tcpi_snd_cwnd", 5), 5, tcpInfo(info), 4);
        info[80 / 4] = 11;
        code.snapshot(new PythonCode("cwnd += 1; assert tcpi_snd_cwnd == cwnd, tcpi_snd_cwnd\nassert tcpi_snd_mss == 1460", 9), 9,
                tcpInfo(info), 4);
        code.run();
    }

    @Test
    void aFailingAssertFailsTheScript() throws Exception {
        Assumptions.assumeTrue(python(), "python3 not installed");
        int[] info = new int[60];
        info[80 / 4] = 10;
        TcpInfoCode code = new TcpInfoCode(Config.defaults());
        code.snapshot(new PythonCode("assert tcpi_snd_cwnd == 20, 'cwnd %d' % tcpi_snd_cwnd", 3), 3, tcpInfo(info), 4);
        ScriptFailure f = assertThrows(ScriptFailure.class, code::run);
        assertTrue(f.getMessage().contains("AssertionError: cwnd 10"), f.getMessage());
    }
}
