package org.modnet.apps;

import java.io.EOFException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ByteChannel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.socket.api.TcpInfo;
import org.modnet.socket.api.TcpSocketOptions;

/**
 * iperf3 on modnet's sockets, speaking iperf3's control protocol so Linux's iperf3 is the peer either
 * way. The client opens a control connection and sends a 37-byte cookie (36 characters and a NUL);
 * from then on the server drives with one signed state byte at a time: PARAM_EXCHANGE (the client
 * answers with its parameters as JSON after a 4-byte big-endian length), CREATE_STREAMS (the client
 * opens the test streams to the same port, each TCP one starting with the cookie, each UDP one with
 * the 4-byte 123456789 the server answers with 987654321), TEST_START and TEST_RUNNING (data flows);
 * the client ends the test with TEST_END, the server answers EXCHANGE_RESULTS (each side sends its
 * per-stream results as length-prefixed JSON, client first), then DISPLAY_RESULTS, and the client
 * closes with IPERF_DONE. ACCESS_DENIED (-1) refuses a second client; SERVER_ERROR (-2) is followed
 * by iperf3's error number and errno.
 *
 * <p>Blocking sockets, one thread per stream and one for the reporter, as iperf3's 3.16+ threads do.
 * The client keeps the time (or the byte count for {@code -n}) in both directions, as iperf3's does.
 * The TCP sender's Retr and Cwnd columns come from TCP_INFO ({@code tcpi_total_retrans}, {@code
 * tcpi_snd_cwnd * tcpi_snd_mss}), which modnet's channels give as {@link TcpSocketOptions#TCP_INFO};
 * on channels without it (the JDK's) the lines are iperf3's for a system without TCP_INFO (no
 * Retr/Cwnd columns, sender_has_retransmits 0).
 */
final class Iperf3 {
    static final int DEFAULT_PORT = 5201;
    static final int COOKIE_SIZE = 37;
    static final int TCP_BLKSIZE = 128 * 1024;
    /** iperf3's UDP block for a 1500-byte path (3.12 guesses from the control connection's MSS). */
    static final int UDP_BLKSIZE = 1460;
    static final long UDP_RATE = 1024 * 1024;
    static final int MAX_STREAMS = 128;
    /** The largest parameter or result JSON accepted from a peer (iperf3 refuses larger too). */
    static final int MAX_JSON = 1 << 20;
    static final int MAX_BLKSIZE = 1 << 20;
    static final int MAX_UDP_BLKSIZE = 65507;

    // iperf_api.h's states, one signed byte on the control connection
    static final byte TEST_START = 1;
    static final byte TEST_RUNNING = 2;
    static final byte TEST_END = 4;
    static final byte PARAM_EXCHANGE = 9;
    static final byte CREATE_STREAMS = 10;
    static final byte SERVER_TERMINATE = 11;
    static final byte CLIENT_TERMINATE = 12;
    static final byte EXCHANGE_RESULTS = 13;
    static final byte DISPLAY_RESULTS = 14;
    static final byte IPERF_START = 15;
    static final byte IPERF_DONE = 16;
    static final byte ACCESS_DENIED = -1;
    static final byte SERVER_ERROR = -2;

    static final int UDP_CONNECT_MSG = 123456789;
    static final int UDP_CONNECT_REPLY = 987654321;
    /** iperf3's "unknown" count, (uint64_t) -1 on the wire. */
    static final long UNKNOWN = -1;

    static final String VERSION = "iperf 3.12";
    static final String USAGE = "Usage: iperf3 [-s|-c host] [options]\n"
            + "       iperf3 [-h|--help] [-v|--version]\n\n"
            + "  -p, --port      #         server port to listen on/connect to\n"
            + "  -i, --interval  #         seconds between periodic throughput reports\n"
            + "  -J, --json                output in JSON format\n"
            + "  -1, --one-off             handle one client connection then exit\n"
            + "  -u, --udp                 use UDP rather than TCP\n"
            + "  -b, --bitrate #[KMG]      target bitrate in bits/sec (0 for unlimited)\n"
            + "  -t, --time      #         time in seconds to transmit for (default 10 secs)\n"
            + "  -n, --bytes     #[KMG]    number of bytes to transmit (instead of -t)\n"
            + "  -l, --length    #[KMG]    length of buffer to read or write\n"
            + "  -P, --parallel  #         number of parallel client streams to run\n"
            + "  -R, --reverse             run in reverse mode (server sends, client receives)";

    /** A failure the way iperf3 words it: "iperf3: error - MESSAGE", exit status 1. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }

    /** What the command line asked for. */
    record Options(boolean server, String host, int port, double time, long bytes, int parallel, boolean reverse,
            boolean udp, long bandwidth, int len, boolean json, double interval, boolean oneOff) {
    }

    static Options parse(List<String> args) throws Failure {
        boolean server = false;
        String host = null;
        int port = DEFAULT_PORT;
        double time = 10;
        long bytes = 0;
        int parallel = 1;
        boolean reverse = false;
        boolean udp = false;
        long bandwidth = -1;
        int len = 0;
        boolean json = false;
        double interval = 1;
        boolean oneOff = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "-s", "--server" -> server = true;
                case "-c", "--client" -> host = value(args, ++i, a);
                case "-p", "--port" -> {
                    port = (int) number(value(args, ++i, a), a, false);
                    if (port < 1 || port > 65535) {
                        throw new Failure("bad port number");
                    }
                }
                case "-t", "--time" -> time = decimal(value(args, ++i, a), a);
                case "-n", "--bytes" -> bytes = number(value(args, ++i, a), a, true);
                case "-P", "--parallel" -> {
                    parallel = (int) number(value(args, ++i, a), a, false);
                    if (parallel < 1 || parallel > MAX_STREAMS) {
                        throw new Failure("number of parallel streams too large (maximum = " + MAX_STREAMS + ")");
                    }
                }
                case "-R", "--reverse" -> reverse = true;
                case "-u", "--udp" -> udp = true;
                case "-b", "--bitrate", "--bandwidth" -> bandwidth = number(value(args, ++i, a), a, false);
                case "-l", "--length" -> {
                    len = (int) Math.min(Integer.MAX_VALUE, number(value(args, ++i, a), a, true));
                    if (len < 1 || len > MAX_BLKSIZE) {
                        throw new Failure("block size too large (maximum = " + MAX_BLKSIZE + " bytes)");
                    }
                }
                case "-J", "--json" -> json = true;
                case "-i", "--interval" -> {
                    interval = decimal(value(args, ++i, a), a);
                    if (interval != 0 && (interval < 0.1 || interval > 60)) {
                        throw new Failure("invalid report interval (min = 0.1, max = 60 seconds)");
                    }
                }
                case "-1", "--one-off" -> oneOff = true;
                default -> throw new Failure("parameter error - unrecognized option '" + a + "'\n" + USAGE);
            }
        }
        if (server == (host != null)) {
            throw new Failure("must either be a client (-c) or server (-s)\n" + USAGE);
        }
        if (server && (reverse || udp || bytes != 0 || parallel != 1 || len != 0 || bandwidth >= 0)) {
            throw new Failure("some option you are trying to set is client only");
        }
        if (udp && len > MAX_UDP_BLKSIZE) {
            throw new Failure("block size invalid (minimum = 16 bytes, maximum = " + MAX_UDP_BLKSIZE + " bytes)");
        }
        if (!(time > 0) && bytes == 0) {
            throw new Failure("test duration valid values are 0 to 86400 seconds");
        }
        if (len == 0) {
            len = udp ? UDP_BLKSIZE : TCP_BLKSIZE;
        }
        if (udp && len < 16) {
            throw new Failure("block size invalid (minimum = 16 bytes, maximum = " + MAX_UDP_BLKSIZE + " bytes)");
        }
        if (bandwidth < 0) {
            bandwidth = udp ? UDP_RATE : 0;
        }
        return new Options(server, host, port, time, bytes, parallel, reverse, udp, bandwidth, len, json, interval, oneOff);
    }

    private static String value(List<String> args, int i, String option) throws Failure {
        if (i >= args.size()) {
            throw new Failure("parameter error - option requires an argument -- '" + option.replaceFirst("^-+", "") + "'");
        }
        return args.get(i);
    }

    /** A count with iperf3's suffixes: K, M, G, T in powers of 1024 for bytes and 1000 for rates. */
    static long number(String s, String option, boolean binary) throws Failure {
        if (s.isEmpty()) {
            throw new Failure("parameter error - bad number for " + option);
        }
        long mult = 1;
        char last = Character.toUpperCase(s.charAt(s.length() - 1));
        int idx = "KMGT".indexOf(last);
        if (idx >= 0) {
            mult = (long) Math.pow(binary ? 1024 : 1000, idx + 1);
            s = s.substring(0, s.length() - 1);
        }
        try {
            double v = Double.parseDouble(s);
            if (v < 0 || Double.isNaN(v)) {
                throw new NumberFormatException();
            }
            return (long) (v * mult);
        } catch (NumberFormatException e) {
            throw new Failure("parameter error - bad number for " + option);
        }
    }

    private static double decimal(String s, String option) throws Failure {
        try {
            double v = Double.parseDouble(s);
            if (v < 0 || Double.isNaN(v) || v > 86400) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new Failure("parameter error - bad value for " + option);
        }
    }

    static String cookie(Random random) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        StringBuilder b = new StringBuilder(COOKIE_SIZE - 1);
        for (int i = 0; i < COOKIE_SIZE - 1; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    // ---- control connection framing ----

    static void writeCookie(ByteChannel ch, String cookie) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(COOKIE_SIZE);
        b.put(cookie.getBytes(StandardCharsets.US_ASCII)).put((byte) 0).flip();
        writeFully(ch, b);
    }

    static String readCookie(ByteChannel ch) throws IOException {
        ByteBuffer b = readFully(ch, COOKIE_SIZE);
        int n = 0;
        while (n < COOKIE_SIZE && b.get(n) != 0) {
            n++;
        }
        return new String(b.array(), 0, n, StandardCharsets.US_ASCII);
    }

    static void writeState(ByteChannel ch, byte state) throws IOException {
        writeFully(ch, ByteBuffer.wrap(new byte[] { state }));
    }

    static byte readState(ByteChannel ch) throws IOException {
        return readFully(ch, 1).get(0);
    }

    /** A JSON document after its 4-byte big-endian length (JSON_write in iperf3's iperf_util). */
    static void writeJson(ByteChannel ch, Map<String, Object> json) throws IOException {
        byte[] body = Iperf3Json.write(json).getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + body.length);
        b.putInt(body.length).put(body).flip();
        writeFully(ch, b);
    }

    static Map<String, Object> readJson(ByteChannel ch) throws IOException {
        int n = readFully(ch, 4).getInt(0);
        if (n <= 0 || n > MAX_JSON) {
            throw new IOException("bad JSON length " + Integer.toUnsignedString(n));
        }
        String text = new String(readFully(ch, n).array(), StandardCharsets.UTF_8);
        try {
            return Iperf3Json.object(text);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
    }

    static void writeFully(ByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    static ByteBuffer readFully(ByteChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("the peer has closed the connection");
            }
        }
        return b.flip();
    }

    // ---- the test ----

    /** One test stream and its counters; the data thread writes them, the reporter reads them. */
    static final class Stream {
        final int id;
        final int socket;
        final SocketChannel tcp;
        final DatagramChannel udp;
        final AtomicLong bytes = new AtomicLong();
        /** UDP: datagrams sent, or the highest sequence number received. */
        volatile long packets;
        volatile long lost;
        volatile long outOfOrder;
        volatile double jitter;
        private double prevTransit;
        private boolean firstTransit = true;
        long lastBytes;
        long lastPackets;
        long lastLost;
        /** TCP_INFO's samples, as iperf3's TCP sender keeps them: tcpi_total_retrans now and at the last interval. */
        volatile long retransTotal;
        /** The sender's latest TCP_INFO, taken by its own thread between writes (the reporter never waits for the socket's lock). */
        volatile TcpInfo latest;
        long lastRetrans;
        long maxCwnd;
        long maxSndWnd;
        long maxRtt;
        long minRtt = Long.MAX_VALUE;
        long rttSum;
        long rttSamples;
        String localHost = "";
        int localPort;
        String remoteHost = "";
        int remotePort;
        Thread thread;

        Stream(int id, int socket, SocketChannel tcp, DatagramChannel udp) {
            this.id = id;
            this.socket = socket;
            this.tcp = tcp;
            this.udp = udp;
            if (tcp == null && udp == null) {
                return;
            }
            try {
                SocketAddress l = tcp != null ? tcp.getLocalAddress() : udp.getLocalAddress();
                SocketAddress r = tcp != null ? tcp.getRemoteAddress() : udp.getRemoteAddress();
                if (l instanceof InetSocketAddress a) {
                    localHost = a.getAddress().getHostAddress();
                    localPort = a.getPort();
                }
                if (r instanceof InetSocketAddress a) {
                    remoteHost = a.getAddress().getHostAddress();
                    remotePort = a.getPort();
                }
            } catch (IOException e) {
                // the addresses stay unknown
            }
        }

        /** TCP_INFO now, or null on a channel that has no such option (the JDK's) or is closed. */
        TcpInfo tcpInfo() {
            if (tcp == null || !tcp.supportedOptions().contains(TcpSocketOptions.TCP_INFO)) {
                return null;
            }
            try {
                TcpInfo i = tcp.getOption(TcpSocketOptions.TCP_INFO);
                retransTotal = Integer.toUnsignedLong(i.totalRetrans());
                return i;
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        /** iperf3's per-interval TCP_INFO sample: cwnd in bytes, the peer's window, the smoothed RTT's extremes. */
        TcpInfo sample() {
            TcpInfo i = latest;
            if (i != null) {
                maxCwnd = Math.max(maxCwnd, (long) i.sndCwnd() * i.sndMss());
                maxSndWnd = Math.max(maxSndWnd, Integer.toUnsignedLong(i.sndWnd()));
                maxRtt = Math.max(maxRtt, i.rtt());
                minRtt = Math.min(minRtt, i.rtt());
                rttSum += i.rtt();
                rttSamples++;
            }
            return i;
        }

        void close() {
            try {
                if (tcp != null) {
                    tcpInfo(); // the final retransmit count, before the socket goes
                    tcp.close();
                } else if (udp != null) {
                    udp.close();
                }
            } catch (IOException e) {
                // closing anyway
            }
        }

        /**
         * RFC 1889 A.8's interarrival jitter and iperf3's loss counting: a sequence number past the
         * next expected counts the gap as lost; an earlier one is out of order and takes one back.
         */
        void udpArrival(long seq, double sentSeconds, double arrivalSeconds) {
            if (seq > packets) {
                if (seq > packets + 1) {
                    lost += seq - 1 - packets;
                }
                packets = seq;
            } else {
                outOfOrder++;
                if (lost > 0) {
                    lost--;
                }
            }
            double transit = arrivalSeconds - sentSeconds;
            if (firstTransit) {
                firstTransit = false;
            } else {
                double d = Math.abs(transit - prevTransit);
                jitter += (d - jitter) / 16.0;
            }
            prevTransit = transit;
        }
    }

    private final SelectorProvider provider;
    private final PrintStream out;
    private final Random random = new SecureRandom();
    private volatile boolean stopping;
    private volatile ServerSocketChannel listener;

    Iperf3(SelectorProvider provider, PrintStream out) {
        this.provider = provider;
        this.out = out;
    }

    /** Ends a server between tests (Ctrl-C does the same through the interrupt). */
    void stop() {
        stopping = true;
        ServerSocketChannel l = listener;
        if (l != null) {
            try {
                l.close();
            } catch (IOException e) {
                // closing
            }
        }
    }

    /** Runs the command; returns iperf3's exit status, having printed its error. */
    int run(List<String> args) {
        Options o;
        try {
            o = parse(args);
        } catch (Failure f) {
            out.println("iperf3: " + f.getMessage());
            return 1;
        }
        try {
            if (o.server()) {
                serve(o);
            } else {
                Map<String, Object> json = client(o);
                if (o.json()) {
                    out.println(Iperf3Json.pretty(json));
                }
            }
            return 0;
        } catch (Failure f) {
            if (o.json()) {
                Map<String, Object> err = new LinkedHashMap<>();
                err.put("start", new LinkedHashMap<>());
                err.put("intervals", new ArrayList<>());
                err.put("end", new LinkedHashMap<>());
                err.put("error", f.getMessage());
                out.println(Iperf3Json.pretty(err));
            } else {
                out.println("iperf3: error - " + f.getMessage());
            }
            return 1;
        } catch (java.nio.channels.ClosedByInterruptException e) {
            Thread.currentThread().interrupt();
            out.println("iperf3: interrupt - the " + (o.server() ? "server" : "client") + " has terminated");
            return 1;
        } catch (IOException e) {
            out.println("iperf3: error - " + (o.server() ? "" : "control socket has closed unexpectedly: ") + e.getMessage());
            return 1;
        }
    }

    /** The state of one test on either side. */
    private final class Test {
        final Options o;
        final boolean client;
        final boolean sending;
        final String cookie;
        final List<Stream> streams = new ArrayList<>();
        final AtomicLong sent = new AtomicLong();
        final AtomicLong received = new AtomicLong();
        final List<Object> intervals = new ArrayList<>();
        /** Whether every TCP stream gives TCP_INFO: the sender's Retr and Cwnd columns (iperf3's has_tcpinfo_retransmits). */
        boolean tcpInfo;
        volatile boolean done;
        long startNanos;
        long startCpu;
        double endSeconds;
        Thread reporter;

        Test(Options o, boolean client, String cookie) {
            this.o = o;
            this.client = client;
            this.sending = client != o.reverse();
            this.cookie = cookie;
        }

        double now() {
            return (System.nanoTime() - startNanos) / 1e9;
        }

        int socketOf(int index) {
            // iperf3 prints the stream's file descriptor: 5, 7, 9... on a fresh client or server
            return 5 + 2 * index;
        }

        void start() {
            tcpInfo = !o.udp() && !streams.isEmpty() && streams.stream().allMatch(s -> s.tcpInfo() != null);
            startNanos = System.nanoTime();
            startCpu = cpuNanos();
            for (Stream s : streams) {
                s.thread = Thread.ofPlatform().daemon().name("iperf3-stream-" + s.socket)
                        .start(() -> runStream(s));
            }
        }

        void runStream(Stream s) {
            try {
                if (o.udp()) {
                    if (sending) {
                        udpSend(s);
                    } else {
                        udpReceive(s);
                    }
                } else if (sending) {
                    tcpSend(s);
                } else {
                    tcpReceive(s);
                }
            } catch (IOException e) {
                // the stream was closed at the end of the test, or by the peer
            }
        }

        boolean byteLimitReached() {
            return o.bytes() > 0 && sent.get() >= o.bytes();
        }

        void tcpSend(Stream s) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(o.len());
            random.nextBytes(b.array());
            long nextInfo = 0;
            if (tcpInfo) {
                s.latest = s.tcpInfo();
            }
            while (!done && !byteLimitReached()) {
                b.clear();
                while (b.hasRemaining() && !done) {
                    int n = s.tcp.write(b);
                    s.bytes.addAndGet(n);
                    sent.addAndGet(n);
                }
                long now = System.nanoTime();
                if (tcpInfo && now - nextInfo >= 0) {
                    // TCP_INFO takes the socket's lock: taken here, between writes, every 10 ms at most
                    s.latest = s.tcpInfo();
                    nextInfo = now + 10_000_000L;
                }
            }
        }

        void tcpReceive(Stream s) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(o.len());
            while (true) {
                b.clear();
                int n = s.tcp.read(b);
                if (n < 0 || done) {
                    return;
                }
                s.bytes.addAndGet(n);
                received.addAndGet(n);
            }
        }

        /** Paced to -b per stream, as iperf3 checks its rate every pacing_timer (1 ms). */
        void udpSend(Stream s) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(o.len());
            random.nextBytes(b.array());
            long rate = o.bandwidth();
            long seq = 0;
            while (!done && !byteLimitReached()) {
                if (rate > 0) {
                    double elapsed = now();
                    if (s.bytes.get() * 8.0 > rate * elapsed) {
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException e) {
                            return;
                        }
                        continue;
                    }
                }
                long micros = System.currentTimeMillis() * 1000 + (System.nanoTime() / 1000) % 1000;
                b.clear();
                b.putInt(0, (int) (micros / 1_000_000));
                b.putInt(4, (int) (micros % 1_000_000));
                b.putInt(8, (int) ++seq);
                int n = s.udp.write(b);
                s.bytes.addAndGet(n);
                sent.addAndGet(n);
                s.packets = seq;
            }
        }

        void udpReceive(Stream s) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(Math.max(o.len(), MAX_UDP_BLKSIZE));
            while (!done) {
                b.clear();
                int n = s.udp.read(b);
                if (n < 12 || done) {
                    continue;
                }
                double arrival = System.currentTimeMillis() / 1e3;
                double sentAt = Integer.toUnsignedLong(b.getInt(0)) + Integer.toUnsignedLong(b.getInt(4)) / 1e6;
                long seq = Integer.toUnsignedLong(b.getInt(8));
                s.bytes.addAndGet(n);
                received.addAndGet(n);
                s.udpArrival(seq, sentAt, arrival);
            }
        }

        /** The client's end of test: the time, or -n's bytes sent (or received, with -R). */
        boolean ended() {
            if (o.bytes() > 0) {
                return sending ? byteLimitReached() && senderStopped() : received.get() >= o.bytes();
            }
            return now() >= o.time();
        }

        private boolean senderStopped() {
            for (Stream s : streams) {
                if (s.thread.isAlive()) {
                    return false;
                }
            }
            return true;
        }

        /** Prints (or records for -J) interval lines until done; the client's also ends the test. */
        void report(Runnable onEnd) {
            double interval = o.interval();
            double last = 0;
            boolean first = true;
            try {
                while (!done) {
                    // wake on the interval's tick (and the test's end) exactly, polling -n every 5 ms
                    double wake = interval > 0 ? last + interval : Double.MAX_VALUE;
                    if (client && o.bytes() == 0) {
                        wake = Math.min(wake, o.time());
                    }
                    long ns = (long) ((wake - now()) * 1e9);
                    if (ns > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(Math.min(ns, 5_000_000L));
                    }
                    if (Thread.interrupted()) {
                        throw new InterruptedException();
                    }
                    double t = now();
                    boolean end = client && ended();
                    if (end) {
                        done = true;
                    }
                    if (interval > 0 && (t - last >= interval || (end && t - last >= interval * 0.1 && t - last > 0.01))) {
                        printInterval(last, t, first);
                        first = false;
                        last = t;
                    }
                    if (end) {
                        endSeconds = t;
                        onEnd.run();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        synchronized void printInterval(double from, double to, boolean first) {
            boolean udpSender = o.udp() && sending;
            List<Object> js = new ArrayList<>();
            long sumBytes = 0;
            long sumPackets = 0;
            long sumLost = 0;
            double sumJitter = 0;
            long sumRetr = 0;
            boolean retr = tcpInfo && sending;
            if (!o.json()) {
                if (first) {
                    // Linux's client prints the Retr/Cwnd header receiving too (-R), with blank columns; its server does not
                    out.println(o.udp() ? (sending ? Iperf3Format.HEADER_UDP_SENDER : Iperf3Format.HEADER_UDP)
                            : tcpInfo && (sending || client) ? Iperf3Format.HEADER_RETR_CWND : Iperf3Format.HEADER);
                } else if (streams.size() > 1) {
                    out.println(Iperf3Format.SEPARATOR);
                }
            }
            for (Stream s : streams) {
                long bytes = s.bytes.get();
                long packets = s.packets;
                long lost = s.lost;
                long db = bytes - s.lastBytes;
                long dp = packets - s.lastPackets;
                long dl = lost - s.lastLost;
                s.lastBytes = bytes;
                s.lastPackets = packets;
                s.lastLost = lost;
                sumBytes += db;
                sumPackets += dp;
                sumLost += dl;
                sumJitter += s.jitter;
                TcpInfo info = retr ? s.sample() : null;
                long dr = s.retransTotal - s.lastRetrans;
                s.lastRetrans = s.retransTotal;
                sumRetr += dr;
                if (!o.json()) {
                    out.println(info != null ? Iperf3Format.tcpRetrCwnd(s.socket, from, to, db, dr, (long) info.sndCwnd() * info.sndMss())
                            : retr ? Iperf3Format.tcpRetr(s.socket, from, to, db, dr, "")
                            : !o.udp() ? Iperf3Format.tcp(s.socket, from, to, db, "")
                            : udpSender ? Iperf3Format.udpSender(s.socket, from, to, db, dp)
                                    : Iperf3Format.udp(s.socket, from, to, db, s.jitter * 1e3, dl, dp, ""));
                }
                Map<String, Object> sj = intervalJson(s.socket, from, to, db, dp, dl, s.jitter);
                if (retr) {
                    tcpInfoJson(sj, dr, info);
                }
                js.add(sj);
            }
            if (streams.size() > 1 && !o.json()) {
                out.println(retr ? Iperf3Format.tcpRetr(-1, from, to, sumBytes, sumRetr, "")
                        : !o.udp() ? Iperf3Format.tcp(-1, from, to, sumBytes, "")
                        : udpSender ? Iperf3Format.udpSender(-1, from, to, sumBytes, sumPackets)
                                : Iperf3Format.udp(-1, from, to, sumBytes, sumJitter / streams.size() * 1e3, sumLost, sumPackets, ""));
            }
            Map<String, Object> iv = new LinkedHashMap<>();
            iv.put("streams", js);
            Map<String, Object> sum = intervalJson(0, from, to, sumBytes, sumPackets, sumLost, sumJitter / streams.size());
            sum.remove("socket");
            if (retr) {
                tcpInfoJson(sum, sumRetr, null);
            }
            iv.put("sum", sum);
            intervals.add(iv);
        }

        Map<String, Object> intervalJson(int socket, double from, double to, long bytes, long packets, long lost, double jitter) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("socket", socket);
            m.put("start", from);
            m.put("end", to);
            m.put("seconds", to - from);
            m.put("bytes", bytes);
            m.put("bits_per_second", to > from ? bytes * 8.0 / (to - from) : 0.0);
            if (o.udp()) {
                if (!sending) {
                    m.put("jitter_ms", jitter * 1e3);
                    m.put("lost_packets", lost);
                    m.put("packets", packets);
                    m.put("lost_percent", packets > 0 ? 100.0 * lost / packets : 0.0);
                } else {
                    m.put("packets", packets);
                }
            }
            m.put("omitted", false);
            m.put("sender", sending);
            return m;
        }

        /** A TCP sender's interval keys from TCP_INFO, in 3.12's order before "omitted"; the sum has only retransmits. */
        private void tcpInfoJson(Map<String, Object> m, long retransmits, TcpInfo info) {
            Object omitted = m.remove("omitted");
            Object sender = m.remove("sender");
            m.put("retransmits", retransmits);
            if (info != null) {
                m.put("snd_cwnd", (long) info.sndCwnd() * info.sndMss());
                m.put("snd_wnd", Integer.toUnsignedLong(info.sndWnd()));
                m.put("rtt", Integer.toUnsignedLong(info.rtt()));
                m.put("rttvar", Integer.toUnsignedLong(info.rttvar()));
                m.put("pmtu", Integer.toUnsignedLong(info.pmtu()));
            }
            m.put("omitted", omitted);
            m.put("sender", sender);
        }

        /** This side's results for EXCHANGE_RESULTS, as iperf3's send_results builds them. */
        Map<String, Object> results() {
            Map<String, Object> r = new LinkedHashMap<>();
            double[] cpu = cpu(startNanos, startCpu);
            r.put("cpu_util_total", cpu[0]);
            r.put("cpu_util_user", cpu[1]);
            r.put("cpu_util_system", cpu[2]);
            // a sender says 1 with TCP_INFO, 0 without (no retransmit counts), a receiver -1, as Linux's iperf3
            // does; -1 from a sender would have Linux's client print it as 4294967295 retransmits
            r.put("sender_has_retransmits", sending ? (tcpInfo ? 1 : 0) : UNKNOWN);
            if (!o.udp()) {
                r.put("congestion_used", "cubic");
            }
            List<Object> ss = new ArrayList<>();
            for (Stream s : streams) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", s.id);
                m.put("bytes", s.bytes.get());
                m.put("retransmits", sending && tcpInfo ? s.retransTotal : UNKNOWN);
                m.put("jitter", sending ? 0.0 : s.jitter);
                m.put("errors", sending ? 0 : s.lost);
                m.put("omitted_errors", 0);
                m.put("packets", s.packets);
                m.put("omitted_packets", 0);
                m.put("start_time", 0);
                m.put("end_time", endSeconds);
                ss.add(m);
            }
            r.put("streams", ss);
            return r;
        }

        void stopStreams() {
            done = true;
            for (Stream s : streams) {
                s.close();
            }
            for (Stream s : streams) {
                try {
                    s.thread.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * This process's CPU use over the test, as iperf3 takes getrusage over the wall time: total, user,
     * system (the JVM gives only the total; it is reported as user).
     */
    private static double[] cpu(long startNanos, long startCpuNanos) {
        long wall = System.nanoTime() - startNanos;
        long used = cpuNanos() - startCpuNanos;
        double pct = wall > 0 && used >= 0 ? 100.0 * used / wall : 0;
        return new double[] { pct, pct, 0.0 };
    }

    static long cpuNanos() {
        return ProcessHandle.current().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
    }

    private static void sleepMillis(long ms) throws InterruptedException {
        Thread.sleep(ms);
    }

    // ---- client ----

    Map<String, Object> client(Options o) throws IOException, Failure {
        InetAddress addr = resolve(o.host());
        InetSocketAddress server = new InetSocketAddress(addr, o.port());
        Test test = new Test(o, true, cookie(random));
        Map<String, Object> start = new LinkedHashMap<>();
        List<Object> connected = new ArrayList<>();
        if (!o.json()) {
            out.println("Connecting to host " + o.host() + ", port " + o.port());
            if (o.reverse()) {
                out.println("Reverse mode, remote host " + o.host() + " is sending");
            }
        }
        SocketChannel control = provider.openSocketChannel();
        try (control) {
            try {
                control.connect(server);
            } catch (IOException e) {
                throw new Failure("unable to connect to server - server may have stopped running or use a different port, firewall issue, etc.: "
                        + e.getMessage());
            }
            writeCookie(control, test.cookie);
            Map<String, Object> remote = null;
            Object lock = new Object();
            while (true) {
                byte state;
                try {
                    state = readState(control);
                } catch (EOFException e) {
                    throw new Failure("control socket has closed unexpectedly");
                }
                switch (state) {
                    case PARAM_EXCHANGE -> writeJson(control, params(o));
                    case CREATE_STREAMS -> {
                        for (int i = 0; i < o.parallel(); i++) {
                            Stream s = o.udp() ? udpStream(test, i, server) : tcpStream(test, i, server);
                            test.streams.add(s);
                            Map<String, Object> c = new LinkedHashMap<>();
                            c.put("socket", s.socket);
                            c.put("local_host", s.localHost);
                            c.put("local_port", s.localPort);
                            c.put("remote_host", s.remoteHost);
                            c.put("remote_port", s.remotePort);
                            connected.add(c);
                            if (!o.json()) {
                                out.printf(Locale.ROOT, "[%3d] local %s port %d connected to %s port %d%n", s.socket, s.localHost,
                                        s.localPort, s.remoteHost, s.remotePort);
                            }
                        }
                    }
                    case TEST_START -> {
                        // the streams start at TEST_RUNNING
                    }
                    case TEST_RUNNING -> {
                        test.start();
                        test.reporter = Thread.ofPlatform().daemon().name("iperf3-reporter").start(() -> test.report(() -> {
                            if (test.sending) {
                                // the senders stop at done; wait for them so the counts are final
                                for (Stream s : test.streams) {
                                    try {
                                        s.thread.join(1000);
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                    }
                                }
                            }
                            synchronized (lock) {
                                try {
                                    writeState(control, TEST_END);
                                } catch (IOException e) {
                                    // the control loop sees it
                                }
                            }
                        }));
                    }
                    case EXCHANGE_RESULTS -> {
                        joinQuietly(test.reporter);
                        test.stopStreams();
                        synchronized (lock) {
                            writeJson(control, test.results());
                        }
                        remote = readJson(control);
                    }
                    case DISPLAY_RESULTS -> {
                        Map<String, Object> json = summary(test, remote, start, connected);
                        synchronized (lock) {
                            writeState(control, IPERF_DONE);
                        }
                        if (!o.json()) {
                            out.println();
                            out.println("iperf Done.");
                        }
                        return json;
                    }
                    case ACCESS_DENIED -> throw new Failure("the server is busy running a test. try again later");
                    case SERVER_ERROR -> {
                        ByteBuffer e = readFully(control, 8);
                        throw new Failure("the server reported error " + e.getInt(0) + " (errno " + e.getInt(4) + ")");
                    }
                    case SERVER_TERMINATE -> throw new Failure("the server has terminated");
                    default -> throw new Failure("received an unknown control message (" + state + ")");
                }
            }
        } finally {
            test.done = true;
            for (Stream s : test.streams) {
                s.close();
            }
            if (test.reporter != null) {
                test.reporter.interrupt();
            }
        }
    }

    private static void joinQuietly(Thread t) {
        if (t == null) {
            return;
        }
        try {
            t.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static InetAddress resolve(String host) throws Failure {
        if (host.equals("localhost")) {
            host = "127.0.0.1";
        }
        byte[] a = parseIpv4(host);
        if (a == null) {
            // modnet has no resolver: addresses only, as curl here
            throw new Failure("unable to resolve host: " + host + " (addresses only)");
        }
        try {
            return InetAddress.getByAddress(a);
        } catch (IOException e) {
            throw new Failure("unable to resolve host: " + host);
        }
    }

    static byte[] parseIpv4(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length != 4) {
            return null;
        }
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            try {
                if (p[i].isEmpty() || p[i].length() > 3) {
                    return null;
                }
                int v = Integer.parseInt(p[i]);
                if (v < 0 || v > 255) {
                    return null;
                }
                b[i] = (byte) v;
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return b;
    }

    /** The client's parameters, key for key as iperf3 3.12's send_parameters writes them. */
    static Map<String, Object> params(Options o) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(o.udp() ? "udp" : "tcp", true);
        p.put("omit", 0);
        if (o.bytes() > 0) {
            p.put("time", 0);
            p.put("num", o.bytes());
        } else {
            p.put("time", (long) Math.ceil(o.time()));
            p.put("num", 0);
        }
        p.put("blockcount", 0);
        p.put("parallel", o.parallel());
        if (o.reverse()) {
            p.put("reverse", true);
        }
        p.put("len", o.len());
        if (o.bandwidth() > 0) {
            p.put("bandwidth", o.bandwidth());
        }
        p.put("pacing_timer", 1000);
        p.put("client_version", "3.12");
        return p;
    }

    private Stream tcpStream(Test test, int index, InetSocketAddress server) throws IOException, Failure {
        SocketChannel ch = provider.openSocketChannel();
        try {
            ch.connect(server);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, false);
            writeCookie(ch, test.cookie);
        } catch (IOException e) {
            ch.close();
            throw new Failure("unable to connect stream: " + e.getMessage());
        }
        return new Stream(index == 0 ? 1 : index + 2, test.socketOf(index), ch, null);
    }

    private Stream udpStream(Test test, int index, InetSocketAddress server) throws IOException, Failure {
        DatagramChannel ch = provider.openDatagramChannel();
        try {
            ch.connect(server);
            // iperf3 writes its connect message as a host-order int: little-endian on x86
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, UDP_CONNECT_MSG);
            ch.write(b);
            ByteBuffer r = ByteBuffer.allocate(64);
            ch.read(r);
        } catch (IOException e) {
            ch.close();
            throw new Failure("unable to connect stream: " + e.getMessage());
        }
        return new Stream(index == 0 ? 1 : index + 2, test.socketOf(index), null, ch);
    }

    /** Prints the client's summary (both sides' counts) and builds the -J document. */
    private Map<String, Object> summary(Test test, Map<String, Object> remote, Map<String, Object> start, List<Object> connected) {
        Options o = test.o;
        Map<Integer, Map<String, Object>> peer = new LinkedHashMap<>();
        double peerEnd = test.endSeconds;
        if (remote != null && remote.get("streams") instanceof List<?> l) {
            for (Object x : l) {
                if (x instanceof Map<?, ?> m) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> mm = (Map<String, Object>) m;
                    peer.put((int) Iperf3Json.asLong(mm.get("id"), -1), mm);
                    peerEnd = Math.max(peerEnd, Iperf3Json.asDouble(mm.get("end_time"), 0));
                }
            }
        }
        double dur = test.endSeconds;
        Map<String, Object> end = new LinkedHashMap<>();
        List<Object> streams = new ArrayList<>();
        long sumSent = 0;
        long sumRecv = 0;
        long sumSentPackets = 0;
        long sumRecvPackets = 0;
        long sumLost = 0;
        double sumJitter = 0;
        long sumRetr = 0;
        // the sender's retransmits: ours from TCP_INFO, or the server's when it sent (-R) and said it has them
        boolean retr = !o.udp() && (test.sending ? test.tcpInfo
                : remote != null && Iperf3Json.asLong(remote.get("sender_has_retransmits"), UNKNOWN) == 1);
        List<String> lines = new ArrayList<>();
        for (Stream s : test.streams) {
            Map<String, Object> p = peer.getOrDefault(s.id, Map.of());
            long mine = s.bytes.get();
            long theirs = Iperf3Json.asLong(p.get("bytes"), 0);
            long sent = test.sending ? mine : theirs;
            long recv = test.sending ? theirs : mine;
            long sentPackets = test.sending ? s.packets : Iperf3Json.asLong(p.get("packets"), 0);
            long recvPackets = test.sending ? Iperf3Json.asLong(p.get("packets"), 0) : s.packets;
            long lost = test.sending ? Iperf3Json.asLong(p.get("errors"), 0) : s.lost;
            double jitter = test.sending ? Iperf3Json.asDouble(p.get("jitter"), 0) : s.jitter;
            sumSent += sent;
            sumRecv += recv;
            sumSentPackets += sentPackets;
            sumRecvPackets += recvPackets;
            sumLost += lost;
            sumJitter += jitter;
            Map<String, Object> st = new LinkedHashMap<>();
            if (o.udp()) {
                Map<String, Object> u = sideJson(s.socket, dur, sent, o, true);
                u.put("jitter_ms", jitter * 1e3);
                u.put("lost_packets", lost);
                u.put("packets", sentPackets);
                u.put("lost_percent", sentPackets > 0 ? 100.0 * lost / sentPackets : 0.0);
                u.put("out_of_order", test.sending ? 0 : s.outOfOrder);
                u.put("sender", test.sending);
                st.put("udp", u);
                lines.add(Iperf3Format.udp(s.socket, 0, dur, sent, 0, 0, sentPackets, "sender"));
                lines.add(Iperf3Format.udp(s.socket, 0, dur, recv, jitter * 1e3, lost, recvPackets, "receiver"));
            } else {
                Map<String, Object> snd = sideJson(s.socket, dur, sent, o, true);
                Map<String, Object> rcv = sideJson(s.socket, dur, recv, o, false);
                long r = test.sending ? s.retransTotal : Iperf3Json.asLong(p.get("retransmits"), 0);
                if (retr) {
                    sumRetr += r;
                    snd.put("retransmits", r);
                    if (test.sending && s.rttSamples > 0) {
                        snd.put("max_snd_cwnd", s.maxCwnd);
                        snd.put("max_snd_wnd", s.maxSndWnd);
                        snd.put("max_rtt", s.maxRtt);
                        snd.put("min_rtt", s.minRtt);
                        snd.put("mean_rtt", s.rttSum / s.rttSamples);
                    }
                    snd.put("sender", snd.remove("sender"));
                }
                st.put("sender", snd);
                st.put("receiver", rcv);
                lines.add(retr ? Iperf3Format.tcpRetr(s.socket, 0, dur, sent, r, "sender")
                        : Iperf3Format.tcp(s.socket, 0, dur, sent, "sender"));
                lines.add(Iperf3Format.tcp(s.socket, 0, dur, recv, "receiver"));
            }
            streams.add(st);
        }
        end.put("streams", streams);
        Map<String, Object> sumSentJson = sideJson(0, dur, sumSent, o, true);
        Map<String, Object> sumRecvJson = sideJson(0, dur, sumRecv, o, false);
        sumSentJson.remove("socket");
        sumRecvJson.remove("socket");
        if (retr) {
            sumSentJson.put("retransmits", sumRetr);
            sumSentJson.put("sender", sumSentJson.remove("sender"));
        }
        double avgJitter = test.streams.isEmpty() ? 0 : sumJitter / test.streams.size();
        if (o.udp()) {
            Map<String, Object> sum = new LinkedHashMap<>(sumRecvJson);
            sum.put("jitter_ms", avgJitter * 1e3);
            sum.put("lost_packets", sumLost);
            sum.put("packets", sumSentPackets);
            sum.put("lost_percent", sumSentPackets > 0 ? 100.0 * sumLost / sumSentPackets : 0.0);
            sum.put("sender", test.sending);
            end.put("sum", sum);
            for (Map<String, Object> m : List.of(sumSentJson, sumRecvJson)) {
                boolean isSent = m == sumSentJson;
                m.put("jitter_ms", isSent ? 0.0 : avgJitter * 1e3);
                m.put("lost_packets", isSent ? 0 : sumLost);
                m.put("packets", isSent ? sumSentPackets : sumRecvPackets);
                m.put("lost_percent", !isSent && sumSentPackets > 0 ? 100.0 * sumLost / sumSentPackets : 0.0);
                m.put("sender", isSent ? test.sending : !test.sending);
            }
        }
        end.put("sum_sent", sumSentJson);
        end.put("sum_received", sumRecvJson);
        Map<String, Object> cpu = new LinkedHashMap<>();
        double[] mine = cpu(test.startNanos, test.startCpu);
        cpu.put("host_total", mine[0]);
        cpu.put("host_user", mine[1]);
        cpu.put("host_system", mine[2]);
        cpu.put("remote_total", remote == null ? 0.0 : Iperf3Json.asDouble(remote.get("cpu_util_total"), 0));
        cpu.put("remote_user", remote == null ? 0.0 : Iperf3Json.asDouble(remote.get("cpu_util_user"), 0));
        cpu.put("remote_system", remote == null ? 0.0 : Iperf3Json.asDouble(remote.get("cpu_util_system"), 0));
        end.put("cpu_utilization_percent", cpu);
        if (!o.udp()) {
            String remoteCong = remote != null && remote.get("congestion_used") instanceof String c ? c : "cubic";
            end.put("sender_tcp_congestion", test.sending ? "cubic" : remoteCong);
            end.put("receiver_tcp_congestion", test.sending ? remoteCong : "cubic");
        }
        if (!o.json()) {
            out.println(Iperf3Format.SEPARATOR);
            out.println(o.udp() ? Iperf3Format.HEADER_UDP : retr ? Iperf3Format.HEADER_RETR : Iperf3Format.HEADER);
            lines.forEach(out::println);
            if (test.streams.size() > 1) {
                if (o.udp()) {
                    out.println(Iperf3Format.udp(-1, 0, dur, sumSent, 0, 0, sumSentPackets, "sender"));
                    out.println(Iperf3Format.udp(-1, 0, dur, sumRecv, avgJitter * 1e3, sumLost, sumRecvPackets, "receiver"));
                } else {
                    out.println(retr ? Iperf3Format.tcpRetr(-1, 0, dur, sumSent, sumRetr, "sender")
                            : Iperf3Format.tcp(-1, 0, dur, sumSent, "sender"));
                    out.println(Iperf3Format.tcp(-1, 0, dur, sumRecv, "receiver"));
                }
            }
        }
        start.put("connected", connected);
        start.put("version", VERSION);
        start.put("system_info", "modnet " + System.getProperty("os.name", "") + " " + System.getProperty("os.arch", ""));
        ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
        Map<String, Object> ts = new LinkedHashMap<>();
        ts.put("time", DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).format(now));
        ts.put("timesecs", now.toEpochSecond());
        start.put("timestamp", ts);
        Map<String, Object> to = new LinkedHashMap<>();
        to.put("host", o.host());
        to.put("port", o.port());
        start.put("connecting_to", to);
        start.put("cookie", test.cookie);
        if (!o.udp()) {
            start.put("tcp_mss_default", 1448);
        }
        start.put("target_bitrate", o.bandwidth());
        start.put("sock_bufsize", 0);
        start.put("sndbuf_actual", 0);
        start.put("rcvbuf_actual", 0);
        Map<String, Object> ts2 = new LinkedHashMap<>();
        ts2.put("protocol", o.udp() ? "UDP" : "TCP");
        ts2.put("num_streams", o.parallel());
        ts2.put("blksize", o.len());
        ts2.put("omit", 0);
        ts2.put("duration", o.bytes() > 0 ? 0 : (long) Math.ceil(o.time()));
        ts2.put("bytes", o.bytes());
        ts2.put("blocks", 0);
        ts2.put("reverse", o.reverse() ? 1 : 0);
        ts2.put("tos", 0);
        ts2.put("target_bitrate", o.bandwidth());
        start.put("test_start", ts2);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("start", start);
        doc.put("intervals", test.intervals);
        doc.put("end", end);
        return doc;
    }

    private static Map<String, Object> sideJson(int socket, double dur, long bytes, Options o, boolean senderSide) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("socket", socket);
        m.put("start", 0);
        m.put("end", dur);
        m.put("seconds", dur);
        m.put("bytes", bytes);
        m.put("bits_per_second", dur > 0 ? bytes * 8.0 / dur : 0.0);
        if (!o.udp() && senderSide) {
            m.put("retransmits", UNKNOWN);
        }
        m.put("sender", true);
        return m;
    }

    // ---- server ----

    void serve(Options o) throws IOException, Failure {
        ServerSocketChannel l = provider.openServerSocketChannel();
        try (l) {
            l.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            try {
                l.bind(new InetSocketAddress("0.0.0.0", o.port()));
            } catch (IOException e) {
                throw new Failure("unable to start listener for connections: " + e.getMessage());
            }
            listener = l;
            for (int n = 1; !stopping && !Thread.currentThread().isInterrupted(); n++) {
                if (!o.json()) {
                    out.println(Iperf3Format.BANNER);
                    out.println("Server listening on " + o.port() + " (test #" + n + ")");
                    out.println(Iperf3Format.BANNER);
                }
                SocketChannel control;
                try {
                    control = l.accept();
                } catch (java.nio.channels.AsynchronousCloseException e) {
                    if (Thread.interrupted()) {
                        throw new java.nio.channels.ClosedByInterruptException();
                    }
                    return;
                }
                try (control) {
                    Map<String, Object> json = serveOne(o, l, control);
                    if (o.json() && json != null) {
                        out.println(Iperf3Json.pretty(json));
                    }
                } catch (IOException e) {
                    if (e instanceof java.nio.channels.ClosedByInterruptException) {
                        throw e;
                    }
                    out.println("iperf3: error - " + e.getMessage());
                }
                if (o.oneOff()) {
                    return;
                }
            }
        } finally {
            listener = null;
        }
    }

    private Map<String, Object> serveOne(Options so, ServerSocketChannel l, SocketChannel control) throws IOException {
        // iperf3's own words for a client that is not iperf3 (IERECVCOOKIE, IERECVPARAMS): the test ends, the server goes on
        String cookie;
        try {
            cookie = readCookie(control);
        } catch (IOException e) {
            throw new IOException("unable to receive cookie at server: " + e.getMessage(), e);
        }
        InetSocketAddress peer = (InetSocketAddress) control.getRemoteAddress();
        if (!so.json()) {
            out.println("Accepted connection from " + peer.getAddress().getHostAddress() + ", port " + peer.getPort());
        }
        writeState(control, PARAM_EXCHANGE);
        Map<String, Object> p;
        try {
            p = readJson(control);
        } catch (IOException e) {
            throw new IOException("unable to receive parameters from client: " + e.getMessage(), e);
        }
        Options o = fromParams(p, so);
        Test test = new Test(o, false, cookie);
        try {
            // UDP: the first stream's socket is bound before CREATE_STREAMS, so the client's first datagram finds it
            DatagramChannel[] pending = { o.udp() ? bindUdp(so.port()) : null };
            writeState(control, CREATE_STREAMS);
            for (int i = 0; i < o.parallel(); i++) {
                Stream s;
                if (o.udp()) {
                    s = acceptUdp(test, i, so.port(), pending, i + 1 < o.parallel());
                } else {
                    s = acceptTcp(test, i, l, cookie);
                }
                test.streams.add(s);
                if (!o.json()) {
                    out.printf(Locale.ROOT, "[%3d] local %s port %d connected to %s port %d%n", s.socket, s.localHost, s.localPort,
                            s.remoteHost, s.remotePort);
                }
            }
            writeState(control, TEST_START);
            writeState(control, TEST_RUNNING);
            test.start();
            test.reporter = Thread.ofPlatform().daemon().name("iperf3-reporter").start(() -> test.report(() -> {
            }));
            Map<String, Object> remote = null;
            while (true) {
                byte state;
                try {
                    state = readState(control);
                } catch (EOFException e) {
                    if (!o.json()) {
                        out.println("iperf3: error - the client has unexpectedly closed the connection");
                    }
                    return null;
                }
                switch (state) {
                    case TEST_END -> {
                        test.endSeconds = test.now();
                        test.done = true;
                        joinQuietly(test.reporter);
                        // the last partial interval, as iperf3's server prints it at TEST_END
                        double last = test.intervals.isEmpty() ? 0 : lastEnd(test);
                        if (test.endSeconds - last > 0.01 && o.interval() > 0) {
                            test.printInterval(last, test.endSeconds, test.intervals.isEmpty());
                        }
                        test.stopStreams();
                        writeState(control, EXCHANGE_RESULTS);
                        remote = readJson(control);
                        writeJson(control, test.results());
                        writeState(control, DISPLAY_RESULTS);
                        serverSummary(test);
                    }
                    case IPERF_DONE -> {
                        Map<String, Object> doc = new LinkedHashMap<>();
                        doc.put("start", new LinkedHashMap<>(Map.of("cookie", cookie)));
                        doc.put("intervals", test.intervals);
                        Map<String, Object> end = new LinkedHashMap<>();
                        end.put("remote", remote);
                        doc.put("end", end);
                        return doc;
                    }
                    case CLIENT_TERMINATE -> {
                        out.println("iperf3: the client has terminated");
                        return null;
                    }
                    default -> throw new IOException("received an unknown control message (" + state + ")");
                }
            }
        } finally {
            test.done = true;
            for (Stream s : test.streams) {
                s.close();
            }
        }
    }

    private static double lastEnd(Test test) {
        Object iv = test.intervals.get(test.intervals.size() - 1);
        if (iv instanceof Map<?, ?> m && m.get("sum") instanceof Map<?, ?> sum) {
            return Iperf3Json.asDouble(sum.get("end"), 0);
        }
        return 0;
    }

    private void serverSummary(Test test) {
        Options o = test.o;
        if (o.json()) {
            return;
        }
        double dur = test.endSeconds;
        String role = test.sending ? "sender" : "receiver";
        boolean retr = test.tcpInfo && test.sending;
        out.println(Iperf3Format.SEPARATOR);
        out.println(o.udp() ? Iperf3Format.HEADER_UDP : retr ? Iperf3Format.HEADER_RETR : Iperf3Format.HEADER);
        long sumRetr = 0;
        long sum = 0;
        long packets = 0;
        long lost = 0;
        for (Stream s : test.streams) {
            long b = s.bytes.get();
            sum += b;
            packets += s.packets;
            lost += s.lost;
            sumRetr += s.retransTotal;
            out.println(o.udp() ? Iperf3Format.udp(s.socket, 0, dur, b, s.jitter * 1e3, s.lost, s.packets, role)
                    : retr ? Iperf3Format.tcpRetr(s.socket, 0, dur, b, s.retransTotal, role)
                    : Iperf3Format.tcp(s.socket, 0, dur, b, role));
        }
        if (test.streams.size() > 1) {
            out.println(o.udp() ? Iperf3Format.udp(-1, 0, dur, sum, 0, lost, packets, role)
                    : retr ? Iperf3Format.tcpRetr(-1, 0, dur, sum, sumRetr, role) : Iperf3Format.tcp(-1, 0, dur, sum, role));
        }
    }

    /** The test the client asked for, from its parameters (iperf3's get_parameters). */
    static Options fromParams(Map<String, Object> p, Options server) throws IOException {
        boolean udp = Iperf3Json.asBool(p.get("udp"));
        int parallel = (int) Iperf3Json.asLong(p.get("parallel"), 1);
        long len = Iperf3Json.asLong(p.get("len"), udp ? UDP_BLKSIZE : TCP_BLKSIZE);
        if (parallel < 1 || parallel > MAX_STREAMS) {
            throw new IOException("parameter error - bad number of parallel streams (" + parallel + ")");
        }
        if (len < (udp ? 16 : 1) || len > (udp ? MAX_UDP_BLKSIZE : MAX_BLKSIZE)) {
            throw new IOException("parameter error - bad block size (" + len + ")");
        }
        return new Options(true, null, server.port(), Iperf3Json.asDouble(p.get("time"), 10), Iperf3Json.asLong(p.get("num"), 0),
                parallel, Iperf3Json.asBool(p.get("reverse")), udp, Iperf3Json.asLong(p.get("bandwidth"), 0), (int) len,
                server.json(), server.interval(), server.oneOff());
    }

    private Stream acceptTcp(Test test, int index, ServerSocketChannel l, String cookie) throws IOException {
        while (true) {
            SocketChannel ch = l.accept();
            try {
                String c = readCookie(ch);
                if (c.equals(cookie)) {
                    return new Stream(index == 0 ? 1 : index + 2, test.socketOf(index), ch, null);
                }
                // another client while a test runs: iperf3 answers ACCESS_DENIED
                writeState(ch, ACCESS_DENIED);
            } catch (IOException e) {
                // a connection that did not send a cookie
            }
            ch.close();
        }
    }

    private DatagramChannel bindUdp(int port) throws IOException {
        DatagramChannel ch = provider.openDatagramChannel();
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            ch.bind(new InetSocketAddress("0.0.0.0", port));
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * A UDP stream: the bound socket takes the client's first datagram and connects to its sender; the
     * next stream's socket is bound (SO_REUSEPORT) before the reply UDP_CONNECT_REPLY lets the client
     * open it, as iperf3's iperf_udp_accept does.
     */
    private Stream acceptUdp(Test test, int index, int port, DatagramChannel[] pending, boolean more) throws IOException {
        DatagramChannel ch = pending[0];
        pending[0] = null;
        try {
            ByteBuffer b = ByteBuffer.allocate(MAX_UDP_BLKSIZE);
            SocketAddress from = ch.receive(b);
            ch.connect(from);
            if (more) {
                pending[0] = bindUdp(port);
            }
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, UDP_CONNECT_REPLY));
            return new Stream(index == 0 ? 1 : index + 2, test.socketOf(index), null, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }
}
