package org.modnet.socket;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.net.Errno;
import org.modnet.api.shell.CommandException;
import org.modnet.socket.api.PollFd;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * {@code nc} over TCP, as OpenBSD's netcat ({@code netcat.c}: {@code remote_connect},
 * {@code local_listen}, {@code readwrite}) behaves on Debian: a connection carries standard input to
 * the peer and what the peer sends to standard output.
 *
 * <p>A listener's session ends when the peer closes its side (end of the stream); a client's when its
 * input has ended too (OpenBSD's readwrite stops reading the network at its end but sends the rest of
 * standard input), or after {@code -q SECS} once
 * standard input has ended ({@code -q 0} at once), or after {@code -w SECS} without traffic (a client
 * only, as "has no effect on the -l option" says). {@code -N} sends our FIN ({@code shutdown(SHUT_WR)})
 * once standard input has ended, so a listener writing to a file sees the end of it. A listener takes
 * one connection, or one after another with {@code -k}. {@code -d} does not read standard input. Connect failures print only with {@code -v},
 * in OpenBSD's words, and the exit status is 1.
 */
final class NcTcp {
    private static final int BUFFER = 65536;

    /** What the command line said. {@code idle} and {@code quit} are seconds, negative when not given. */
    record Options(boolean listen, boolean keep, boolean verbose, boolean shutdownOnEof, boolean noStdin, String source,
            int sourcePort, double idle, double quit) {
    }

    private final SocketCalls sys;
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final Options o;

    /** The connection standard input goes to; -1 before and between connections (input waits). */
    private final AtomicInteger target = new AtomicInteger(-1);
    /** When standard input ended (System.nanoTime), -1 while it has not. */
    private final AtomicLong inputEnded = new AtomicLong(-1);
    private final AtomicLong lastActivity = new AtomicLong(System.nanoTime());
    private Thread pump;

    NcTcp(SocketCalls sys, InputStream in, PrintStream out, PrintStream err, Options o) {
        this.sys = sys;
        this.in = in;
        this.out = out;
        this.err = err;
        this.o = o;
    }

    private int socket() {
        int fd = sys.socket(SocketCalls.AF_INET, SocketCalls.SOCK_STREAM, 0);
        if (fd < 0) {
            throw new CommandException("nc: socket: " + SocketCalls.strerror(fd), 1);
        }
        return fd;
    }

    // --- client ---

    int client(String hostText, int host, int port) throws InterruptedException {
        int fd = socket();
        try {
            if (!connect(fd, hostText, host, port)) {
                return 1;
            }
            if (o.verbose()) {
                err.println("Connection to " + hostText + " " + port + " port [tcp/*] succeeded!");
            }
            startPump();
            return session(fd);
        } finally {
            stopPump();
            sys.close(fd);
        }
    }

    /**
     * {@code remote_connect}: an optional source address and port, then {@code connect}, bounded by
     * {@code -w} (non-blocking, then poll for POLLOUT and read SO_ERROR). False when it failed; the
     * failure is printed with {@code -v}, as OpenBSD does.
     */
    private boolean connect(int fd, String hostText, int host, int port) throws InterruptedException {
        if (o.source() != null || o.sourcePort() != 0) {
            int a = o.source() == null ? 0 : NcCommand.address(o.source());
            sys.setsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1);
            int r = sys.bind(fd, new SockAddr(a, o.sourcePort()));
            if (r < 0) {
                throw new CommandException("nc: bind failed: " + SocketCalls.strerror(r), 1);
            }
        }
        int r;
        if (o.idle() > 0) {
            sys.fcntl(fd, SocketCalls.F_SETFL, SocketCalls.O_NONBLOCK);
            r = sys.connect(fd, new SockAddr(host, port));
            if (r == -Errno.EINPROGRESS.number()) {
                PollFd[] p = { new PollFd(fd, SocketCalls.POLLOUT) };
                int n = sys.poll(p, (int) Math.ceil(o.idle() * 1000));
                interrupted(n);
                if (n == 0) {
                    if (o.verbose()) {
                        err.println("nc: connect to " + hostText + " port " + port + " (tcp) timed out: "
                                + Errno.EINPROGRESS.text());
                    }
                    return false;
                }
                int[] e = new int[1];
                sys.getsockopt(fd, SocketCalls.SOL_SOCKET, SocketCalls.SO_ERROR, e);
                r = -e[0];
            }
            sys.fcntl(fd, SocketCalls.F_SETFL, 0);
        } else {
            r = sys.connect(fd, new SockAddr(host, port));
            interrupted(r);
        }
        if (r < 0) {
            if (o.verbose()) {
                err.println("nc: connect to " + hostText + " port " + port + " (tcp) failed: " + SocketCalls.strerror(r));
            }
            return false;
        }
        return true;
    }

    private static void interrupted(int r) throws InterruptedException {
        if (r == -Errno.EINTR.number() || Thread.currentThread().isInterrupted()) {
            throw new InterruptedException();
        }
    }

    // --- listener ---

    /** {@code local_listen} and the accept loop: one connection, or one after another with {@code -k}. */
    int listen(int port) throws InterruptedException {
        int l = socket();
        try {
            sys.setsockopt(l, SocketCalls.SOL_SOCKET, SocketCalls.SO_REUSEADDR, 1);
            int a = o.source() == null ? 0 : NcCommand.address(o.source());
            int r = sys.bind(l, new SockAddr(a, port));
            if (r < 0) {
                throw new CommandException("nc: " + SocketCalls.strerror(r), 1);
            }
            r = sys.listen(l, 1);
            if (r < 0) {
                throw new CommandException("nc: listen: " + SocketCalls.strerror(r), 1);
            }
            if (o.verbose()) {
                err.println("Listening on " + Ipv4Addresses.format(a) + " " + port);
            }
            startPump();
            do {
                SockAddr[] peer = new SockAddr[1];
                int c = sys.accept(l, peer, 0);
                interrupted(c);
                if (c < 0) {
                    throw new CommandException("nc: accept: " + SocketCalls.strerror(c), 1);
                }
                if (!o.keep()) {
                    sys.close(l); // the port is free again while the one connection runs
                    l = -1;
                }
                try {
                    if (o.verbose()) {
                        err.println("Connection received on " + Ipv4Addresses.format(peer[0].address()) + " " + peer[0].port());
                    }
                    session(c);
                } finally {
                    target.set(-1);
                    sys.close(c);
                }
            } while (o.keep());
            return 0;
        } finally {
            stopPump();
            if (l >= 0) {
                sys.close(l);
            }
        }
    }

    // --- the connection ---

    /**
     * Standard input to the current connection, on a thread of its own (blocking sends: the send
     * buffer paces it); the end of input is noted for {@code -N} and {@code -q}.
     */
    private void startPump() {
        if (o.noStdin()) {
            inputEnded.set(System.nanoTime()); // -d: as if the input had ended at once
            return;
        }
        pump = Thread.ofVirtual().name("nc-stdin").start(() -> {
            byte[] b = new byte[BUFFER];
            try {
                while (true) {
                    int n = in.read(b);
                    if (n < 0) {
                        break;
                    }
                    int fd;
                    while ((fd = target.get()) < 0) {
                        Thread.sleep(10); // input waits for a connection to go to
                    }
                    ByteBuffer buf = ByteBuffer.wrap(b, 0, n);
                    while (fd >= 0 && buf.hasRemaining()) {
                        int r = sys.send(fd, buf, 0);
                        if (r < 0) {
                            break; // the connection's output is gone (EPIPE, a reset): what is left is dropped
                        }
                        lastActivity.set(System.nanoTime());
                    }
                }
            } catch (IOException e) {
                // the input is gone: as at its end
            } catch (InterruptedException e) {
                return; // nc is ending
            }
            inputEnded.set(System.nanoTime());
        });
    }

    private void stopPump() {
        if (pump != null) {
            pump.interrupt();
        }
    }

    /**
     * {@code readwrite}: the peer's bytes to standard output until the end of its stream, a reset,
     * {@code -q} after the end of input or {@code -w} idle; {@code -N} shuts our side once input ended.
     */
    private int session(int fd) throws InterruptedException {
        long started = System.nanoTime();
        lastActivity.set(started);
        target.set(fd);
        ByteBuffer buf = ByteBuffer.allocate(BUFFER);
        PollFd[] p = { new PollFd(fd, SocketCalls.POLLIN) };
        boolean shut = false;
        boolean readable = false;
        boolean netEnded = false;
        try {
            while (true) {
                long now = System.nanoTime();
                long ended = inputEnded.get();
                if (ended >= 0 && o.shutdownOnEof() && !shut) {
                    sys.shutdown(fd, SocketCalls.SHUT_WR);
                    shut = true;
                }
                if (ended >= 0 && o.quit() >= 0 && now - Math.max(ended, started) >= (long) (o.quit() * 1e9)) {
                    return 0;
                }
                if (!o.listen() && o.idle() > 0 && now - lastActivity.get() >= (long) (o.idle() * 1e9)) {
                    return 0;
                }
                if (netEnded) {
                    if (ended >= 0) {
                        return 0; // both inputs are gone: done
                    }
                    Thread.sleep(10); // the pump sends the rest of standard input
                    continue;
                }
                if (!readable) {
                    int r = sys.poll(p, 50);
                    interrupted(r);
                    if (r <= 0 || p[0].revents == 0) {
                        continue;
                    }
                }
                buf.clear();
                int n = sys.recv(fd, buf, SocketCalls.MSG_DONTWAIT);
                if (n == -Errno.EAGAIN.number()) {
                    readable = false;
                    out.flush(); // what arrived in a burst is written out once the burst ends
                    continue;
                }
                if (n == 0 && !o.listen()) {
                    netEnded = true; // the peer's end of stream: nothing more to read, but our input still goes
                    readable = false;
                    continue;
                }
                if (n <= 0) {
                    return 0; // a listener at the end of the peer's stream, or a reset: the connection is over
                }
                readable = true;
                lastActivity.set(System.nanoTime());
                out.write(buf.array(), 0, n);
            }
        } finally {
            out.flush();
        }
    }

    // --- scan ---

    /**
     * {@code -z}: connect to each port and close at once; with {@code -v} each success and failure is
     * printed as OpenBSD prints them. Status 0 if any port accepted.
     */
    int scan(String hostText, int host, List<Integer> ports) throws InterruptedException {
        boolean anyOpen = false;
        for (int port : ports) {
            int fd = socket();
            try {
                if (connect(fd, hostText, host, port)) {
                    anyOpen = true;
                    if (o.verbose()) {
                        err.println("Connection to " + hostText + " " + port + " port [tcp/*] succeeded!");
                    }
                }
            } finally {
                sys.close(fd);
            }
        }
        return anyOpen ? 0 : 1;
    }
}
