package org.modnet.packetdrill;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.modnet.socket.api.SocketCalls;

/**
 * {@code %{ }%} snippets as packetdrill's {@code code.c} runs them: at the event's time a snapshot of
 * the socket's {@code TCP_INFO} (getsockopt level SOL_TCP, option 11); at the end of the script one
 * Python program, each snippet preceded by the {@code tcpi_*} values of its own snapshot, run with
 * {@code --code_command} ({@code python3}). Without TCP_INFO in modnet, or without Python, the script
 * is skipped with that reason. The {@code int[]} that {@code SocketCalls.getsockopt} fills is read as
 * the bytes of Linux's {@code struct tcp_info}, four to an int, little-endian, as a C caller's buffer
 * holds them.
 */
final class TcpInfoCode {

    /** Linux's {@code struct tcp_info}: name, byte offset, size (u8 fields at 0..7 as Linux lays them out). */
    private static final Object[][] FIELDS = {
        { "state", 0, 1 }, { "ca_state", 1, 1 }, { "retransmits", 2, 1 }, { "probes", 3, 1 }, { "backoff", 4, 1 },
        { "options", 5, 1 }, { "rto", 8, 4 }, { "ato", 12, 4 }, { "snd_mss", 16, 4 }, { "rcv_mss", 20, 4 },
        { "unacked", 24, 4 }, { "sacked", 28, 4 }, { "lost", 32, 4 }, { "retrans", 36, 4 }, { "fackets", 40, 4 },
        { "last_data_sent", 44, 4 }, { "last_ack_sent", 48, 4 }, { "last_data_recv", 52, 4 },
        { "last_ack_recv", 56, 4 }, { "pmtu", 60, 4 }, { "rcv_ssthresh", 64, 4 }, { "rtt", 68, 4 },
        { "rttvar", 72, 4 }, { "snd_ssthresh", 76, 4 }, { "snd_cwnd", 80, 4 }, { "advmss", 84, 4 },
        { "reordering", 88, 4 }, { "rcv_rtt", 92, 4 }, { "rcv_space", 96, 4 }, { "total_retrans", 100, 4 },
        { "pacing_rate", 104, 8 }, { "max_pacing_rate", 112, 8 }, { "bytes_acked", 120, 8 },
        { "bytes_received", 128, 8 }, { "segs_out", 136, 4 }, { "segs_in", 140, 4 }, { "notsent_bytes", 144, 4 },
        { "min_rtt", 148, 4 }, { "data_segs_in", 152, 4 }, { "data_segs_out", 156, 4 }, { "delivery_rate", 160, 8 },
        { "busy_time", 168, 8 }, { "rwnd_limited", 176, 8 }, { "sndbuf_limited", 184, 8 }, { "delivered", 192, 4 },
        { "delivered_ce", 196, 4 }, { "bytes_sent", 200, 8 }, { "bytes_retrans", 208, 8 }, { "dsack_dups", 216, 4 },
        { "reord_seen", 220, 4 }, { "rcv_ooopack", 224, 4 }, { "snd_wnd", 228, 4 }, { "rcv_wnd", 232, 4 },
    };

    private static final String PREAMBLE = """
            TCP_ESTABLISHED = 1
            TCP_SYN_SENT = 2
            TCP_SYN_RECV = 3
            TCP_FIN_WAIT1 = 4
            TCP_FIN_WAIT2 = 5
            TCP_TIME_WAIT = 6
            TCP_CLOSE = 7
            TCP_CLOSE_WAIT = 8
            TCP_LAST_ACK = 9
            TCP_LISTEN = 10
            TCP_CLOSING = 11
            TCP_CA_Open = 0
            TCP_CA_Disorder = 1
            TCP_CA_CWR = 2
            TCP_CA_Recovery = 3
            TCP_CA_Loss = 4
            TCPI_OPT_TIMESTAMPS = 1
            TCPI_OPT_SACK = 2
            TCPI_OPT_WSCALE = 4
            TCPI_OPT_ECN = 8
            TCPI_OPT_ECN_SEEN = 16
            TCPI_OPT_SYN_DATA = 32
            """;

    private final Config config;
    private final List<String> snippets = new ArrayList<>();

    TcpInfoCode(Config config) {
        this.config = config;
    }

    void snapshot(PythonCode c, int line, SocketCalls sys, int fd) throws ScriptFailure {
        int[] words = new int[64];
        int n = fd < 0 ? -9 : sys.getsockopt(fd, SocketCalls.SOL_TCP, SocketCalls.TCP_INFO, words);
        if (n < 0) {
            throw ScriptFailure.skip(line, "TCP_INFO not available");
        }
        byte[] b = new byte[words.length * 4];
        for (int i = 0; i < words.length; i++) {
            for (int k = 0; k < 4; k++) {
                b[i * 4 + k] = (byte) (words[i] >>> (8 * k)); // the struct as the kernel's memory holds it (little-endian)
            }
        }
        StringBuilder s = new StringBuilder();
        s.append("_line = ").append(line).append('\n');
        for (Object[] f : FIELDS) {
            int off = (Integer) f[1];
            int size = (Integer) f[2];
            long v = 0;
            for (int k = size - 1; k >= 0; k--) {
                v = v << 8 | (b[off + k] & 0xff);
            }
            s.append("tcpi_").append(f[0]).append(" = ").append(Long.toUnsignedString(v)).append('\n');
        }
        s.append("tcpi_snd_wscale = ").append(b[6] & 0x0f).append("\ntcpi_rcv_wscale = ").append((b[6] >>> 4) & 0x0f)
                .append('\n');
        s.append(c.code()).append('\n');
        snippets.add(s.toString());
    }

    /** Runs the snippets as one Python program; a failing assert fails the script. */
    void run() throws ScriptFailure {
        if (snippets.isEmpty()) {
            return;
        }
        Path file = null;
        try {
            file = Files.createTempFile("packetdrill", ".py");
            Files.writeString(file, PREAMBLE + String.join("", snippets), StandardCharsets.UTF_8);
            String cmd = config.codeCommand() == null || config.codeCommand().isEmpty() ? "python3" : config.codeCommand();
            Process p = new ProcessBuilder(cmd, file.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new ScriptFailure(0, "python code timed out");
            }
            if (p.exitValue() != 0) {
                String last = out.strip();
                int nl = last.lastIndexOf('\n');
                throw new ScriptFailure(0, "error executing code: '" + cmd + " " + file.getFileName()
                        + "': status " + p.exitValue() + ": " + (nl < 0 ? last : last.substring(nl + 1)));
            }
        } catch (IOException e) {
            throw ScriptFailure.skip(0, "python3 not available to run %{ }% code: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ScriptFailure(0, "interrupted");
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }
}
