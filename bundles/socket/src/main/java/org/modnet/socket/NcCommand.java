package org.modnet.socket;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.shell.CommandException;
import org.modnet.socket.api.PollFd;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * {@code nc}, OpenBSD's netcat (as Debian's netcat-openbsd) on modnet sockets: an application of the
 * BSD calls, with the shell's standard input and output. TCP is the default ({@link NcTcp});
 * {@code -u} is UDP, here.
 *
 * <pre>
 * nc [-v] [-n] [-N] [-s SOURCE] [-p PORT] [-w SECS] [-q SECS] HOST PORT
 * nc -l [-v] [-k] [-N] [-s ADDRESS] PORT
 * nc -z [-v] [-w SECS] HOST PORT[-PORT]...
 * nc -u [-v] [-n] [-s SOURCE] [-p PORT] [-w SECS] [-q SECS] [-W COUNT] HOST PORT
 * nc -u -l [-v] [-k] [-w SECS] [-W COUNT] [-s ADDRESS] PORT
 * nc -u -z [-v] [-w SECS] HOST PORT[-PORT]...
 * </pre>
 *
 * Each read of standard input is one datagram; each datagram received is written to standard
 * output. A listener answers the first sender (its "connection"), or any sender with {@code -k}.
 * {@code -w} ends an idle session (after the first datagram when listening), {@code -q} waits that long
 * after the end of input, {@code -W} ends after that many datagrams received. {@code -z} sends one
 * byte to each port and reports those that did not answer with ICMP port unreachable. Exit status 0,
 * or 1 on an error.
 */
final class NcCommand {
    private static final int BUFFER = 16384;

    private final SocketCalls sys;
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;

    private boolean udp;
    private boolean listen;
    private boolean keep;
    private boolean verbose;
    private boolean scan;
    private String source;
    private int sourcePort;
    private boolean shutdownOnEof;
    private boolean noStdin;
    private double idle = -1;
    private double quit = -1;
    private int recvLimit = -1;

    NcCommand(SocketCalls sys, InputStream in, PrintStream out, PrintStream err) {
        this.sys = sys;
        this.in = in;
        this.out = out;
        this.err = err;
    }

    static String usage() {
        return "usage: nc [-46dklNnuvz] [-p source_port] [-q seconds] [-s source] [-W recvlimit] [-w timeout]\n"
                + "\t  [destination] [port]";
    }

    /** Runs nc; returns its exit status. */
    int run(List<String> args) throws InterruptedException {
        List<String> operands = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("-") || a.length() == 1) {
                operands.add(a);
                continue;
            }
            for (int k = 1; k < a.length(); k++) {
                char c = a.charAt(k);
                switch (c) {
                    case 'u' -> udp = true;
                    case 'l' -> listen = true;
                    case 'k' -> keep = true;
                    case 'v' -> verbose = true;
                    case 'z' -> scan = true;
                    case 't' -> udp = false;
                    case 'N' -> shutdownOnEof = true;
                    case 'd' -> noStdin = true;
                    case 'n', '4' -> {
                        // numeric only; IPv4 only
                    }
                    case 's', 'p', 'w', 'q', 'W' -> {
                        String v = k + 1 < a.length() ? a.substring(k + 1) : i + 1 < args.size() ? args.get(++i) : null;
                        if (v == null) {
                            throw new CommandException("nc: option requires an argument -- '" + c + "'\n" + usage(), 1);
                        }
                        option(c, v);
                        k = a.length();
                    }
                    default -> throw new CommandException("nc: invalid option -- '" + c + "'\n" + usage(), 1);
                }
            }
        }
        if (listen) {
            if (scan) {
                throw new CommandException("nc: cannot use -z and -l", 1);
            }
            if (operands.size() != 1 && !(operands.isEmpty() && sourcePort != 0)) {
                throw new CommandException(usage(), 1);
            }
            int port = operands.isEmpty() ? sourcePort : port(operands.get(0));
            return udp ? listen(port) : tcp().listen(port);
        }
        if (operands.size() < 2) {
            throw new CommandException(usage(), 1);
        }
        int host = address(operands.get(0));
        if (scan) {
            List<Integer> ports = ports(operands.subList(1, operands.size()));
            return udp ? scan(operands.get(0), host, ports) : tcp().scan(operands.get(0), host, ports);
        }
        if (operands.size() != 2) {
            throw new CommandException(usage(), 1);
        }
        return udp ? client(operands.get(0), host, port(operands.get(1))) : tcp().client(operands.get(0), host, port(operands.get(1)));
    }

    private void option(char c, String v) {
        try {
            switch (c) {
                case 's' -> source = v;
                case 'p' -> sourcePort = port(v);
                case 'w' -> idle = seconds(v, "timeout");
                case 'q' -> quit = Double.parseDouble(v);
                case 'W' -> {
                    recvLimit = Integer.parseInt(v);
                    if (recvLimit < 1) {
                        throw new CommandException("nc: receive limit " + v + " is invalid", 1);
                    }
                }
                default -> throw new IllegalStateException();
            }
        } catch (NumberFormatException e) {
            throw new CommandException("nc: " + (c == 'W' ? "receive limit" : c == 'q' ? "quit timer" : "timeout") + " " + v + " is invalid", 1);
        }
    }

    private static double seconds(String v, String what) {
        double d = Double.parseDouble(v);
        if (d < 0) {
            throw new CommandException("nc: " + what + " " + v + " is invalid", 1);
        }
        return d;
    }

    static int port(String text) {
        try {
            int p = Integer.parseInt(text);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new CommandException("nc: port number invalid: " + text, 1);
    }

    static int address(String host) {
        long a = Ipv4Addresses.parse(host);
        if (a < 0) {
            throw new CommandException("nc: getaddrinfo for host \"" + host + "\" port: Name or service not known", 1);
        }
        return (int) a;
    }

    private int check(int ret, String what) {
        if (ret < 0) {
            throw new CommandException("nc: " + what + ": " + SocketCalls.strerror(ret), 1);
        }
        return ret;
    }

    private int openSocket() {
        int fd = check(sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0), "socket");
        if (source != null || sourcePort != 0) {
            int a = source == null ? 0 : address(source);
            check(sys.bind(fd, new SockAddr(a, sourcePort)), "bind failed");
        }
        return fd;
    }

    // --- client ---

    private int client(String hostText, int host, int port) throws InterruptedException {
        int fd = openSocket();
        try {
            check(sys.connect(fd, new SockAddr(host, port)), "connect to " + hostText + " port " + port + " (udp) failed");
            if (verbose) {
                err.println("Connection to " + hostText + " " + port + " port [udp/*] succeeded!");
            }
            return session(fd);
        } finally {
            sys.close(fd);
        }
    }

    /**
     * The readwrite loop: standard input to the socket (a reader thread, each read one datagram), the
     * socket to standard output, until the input ends and {@code -q} passes, {@code -w} idles out,
     * {@code -W} datagrams arrived, or an error (ECONNREFUSED from a port unreachable) ends it.
     */
    private int session(int fd) throws InterruptedException {
        java.util.concurrent.atomic.AtomicReference<String> sendError = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong inputEnded = new java.util.concurrent.atomic.AtomicLong(-1);
        java.util.concurrent.atomic.AtomicLong lastActivity = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
        Thread reader = Thread.ofVirtual().name("nc-stdin").start(() -> {
            byte[] b = new byte[BUFFER];
            try {
                while (true) {
                    int n = in.read(b);
                    if (n < 0) {
                        break;
                    }
                    if (n == 0) {
                        continue;
                    }
                    lastActivity.set(System.nanoTime());
                    int r = sys.send(fd, ByteBuffer.wrap(b, 0, n), 0);
                    if (r < 0) {
                        sendError.set("nc: write failed: " + SocketCalls.strerror(r));
                        break;
                    }
                }
            } catch (IOException e) {
                // the input is gone: as at its end
            }
            inputEnded.set(System.nanoTime());
        });
        try {
            return receiveLoop(fd, false, inputEnded, lastActivity, sendError);
        } finally {
            reader.interrupt();
        }
    }

    private int receiveLoop(int fd, boolean listener, java.util.concurrent.atomic.AtomicLong inputEnded,
            java.util.concurrent.atomic.AtomicLong lastActivity, java.util.concurrent.atomic.AtomicReference<String> sendError)
            throws InterruptedException {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        PollFd[] p = { new PollFd(fd, SocketCalls.POLLIN) };
        int received = 0;
        boolean first = true;
        boolean readable = false; // the last read found a datagram: read again before polling
        try {
        while (true) {
            if (sendError.get() != null) {
                return 0; // likewise for a write error: OpenBSD nc stops sending, silently
            }
            long now = System.nanoTime();
            long ended = inputEnded.get();
            if (ended >= 0 && quit >= 0 && now - ended >= (long) (quit * 1e9)) {
                return 0;
            }
            if (idle > 0 && !(listener && first) && now - lastActivity.get() >= (long) (idle * 1e9)) {
                return 0;
            }
            if (!readable) {
                int r = sys.poll(p, 50);
                if (r == -org.modnet.api.net.Errno.EINTR.number() || Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();
                }
                if (r <= 0 || p[0].revents == 0) {
                    continue;
                }
            }
            buf.clear();
            SockAddr[] from = new SockAddr[1];
            int n = sys.recvfrom(fd, buf, SocketCalls.MSG_DONTWAIT, from);
            if (n == -org.modnet.api.net.Errno.EAGAIN.number()) {
                readable = false;
                out.flush(); // what arrived in a burst is written out once the burst ends
                continue;
            }
            readable = true;
            if (n < 0) {
                return 0; // OpenBSD nc closes its network side on a read error (a port unreachable's ECONNREFUSED) without a word
            }
            if (listener && first && !keep) {
                // the first sender is the connection: answer it, hear only it
                check(sys.connect(fd, from[0]), "connect");
                if (verbose) {
                    err.println("Connection received on " + Ipv4Addresses.format(from[0].address()) + " " + from[0].port());
                }
            }
            first = false;
            lastActivity.set(System.nanoTime());
            out.write(buf.array(), 0, n);
            received++;
            if (recvLimit > 0 && received >= recvLimit) {
                return 0;
            }
        }
        } finally {
            out.flush();
        }
    }

    // --- listener ---

    private int listen(int port) throws InterruptedException {
        int fd = check(sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_DGRAM, 0), "socket");
        try {
            sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1);
            int a = source == null ? 0 : address(source);
            check(sys.bind(fd, new SockAddr(a, port)), "bind failed");
            if (verbose) {
                err.println("Bound on " + Ipv4Addresses.format(a) + " " + port);
            }
            java.util.concurrent.atomic.AtomicLong activity = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
            java.util.concurrent.atomic.AtomicLong ended = new java.util.concurrent.atomic.AtomicLong(-1);
            java.util.concurrent.atomic.AtomicReference<String> sendError = new java.util.concurrent.atomic.AtomicReference<>();
            // what the user types goes to the sender once there is one (a connected socket)
            Thread reader = Thread.ofVirtual().name("nc-stdin").start(() -> {
                byte[] b = new byte[BUFFER];
                try {
                    while (true) {
                        int n = in.read(b);
                        if (n < 0) {
                            break;
                        }
                        if (n > 0) {
                            int r = sys.send(fd, ByteBuffer.wrap(b, 0, n), 0);
                            if (r < 0 && r != -org.modnet.api.net.Errno.EDESTADDRREQ.number()) {
                                sendError.set("nc: write failed: " + SocketCalls.strerror(r));
                                break;
                            }
                        }
                    }
                } catch (IOException e) {
                    // input gone
                }
                ended.set(System.nanoTime());
            });
            try {
                return receiveLoop(fd, true, ended, activity, sendError);
            } finally {
                reader.interrupt();
            }
        } finally {
            sys.close(fd);
        }
    }

    /** PORT or LO-HI operands as the list of ports, in order. */
    private static List<Integer> ports(List<String> ports) {
        List<Integer> list = new ArrayList<>();
        for (String p : ports) {
            int dash = p.indexOf('-');
            if (dash > 0) {
                int lo = port(p.substring(0, dash));
                int hi = port(p.substring(dash + 1));
                if (hi < lo) {
                    throw new CommandException("nc: port range not valid", 1);
                }
                for (int q = lo; q <= hi; q++) {
                    list.add(q);
                }
            } else {
                list.add(port(p));
            }
        }
        return list;
    }

    /** The TCP side, on the options parsed here. */
    private NcTcp tcp() {
        return new NcTcp(sys, in, out, err, new NcTcp.Options(listen, keep, verbose, shutdownOnEof, noStdin, source, sourcePort, idle, quit));
    }

    // --- scan ---

    /**
     * {@code -z}: for each port, a connected socket sends "X" and waits up to {@code -w} seconds (1 by
     * default) for an error; ECONNREFUSED (ICMP port unreachable) means closed, silence means open —
     * all UDP can tell. Status 0 if any port is open.
     */
    private int scan(String hostText, int host, List<Integer> list) throws InterruptedException {
        int wait = (int) ((idle > 0 ? idle : 1) * 1000);
        boolean anyOpen = false;
        for (int port : list) {
            int fd = openSocket();
            try {
                int r = sys.connect(fd, new SockAddr(host, port));
                boolean open = r == 0 && sys.send(fd, ByteBuffer.wrap(new byte[] { 'X' }), 0) == 1;
                if (open) {
                    PollFd[] p = { new PollFd(fd, SocketCalls.POLLIN) };
                    if (sys.poll(p, wait) > 0 && (p[0].revents & SocketCalls.POLLERR) != 0) {
                        int[] e = new int[1];
                        sys.getsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_ERROR, e);
                        open = e[0] != org.modnet.api.net.Errno.ECONNREFUSED.number();
                    }
                }
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();
                }
                anyOpen |= open;
                if (verbose) {
                    err.println(open ? "Connection to " + hostText + " " + port + " port [udp/*] succeeded!"
                            : "nc: connect to " + hostText + " port " + port + " (udp) failed: Connection refused");
                }
            } finally {
                sys.close(fd);
            }
        }
        return anyOpen ? 0 : 1;
    }
}
