package org.modnet.packetdrill;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import org.modnet.api.inet.Ipv4Addresses;
import org.modnet.api.net.Errno;
import org.modnet.socket.api.PollFd;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * System-call lines onto modnet's {@link SocketCalls} (packetdrill's {@code run_system_call.c}): the
 * script's descriptors mapped to live ones, {@code ...} filled in as packetdrill does (bind: local
 * address and {@code --bind_port}; connect: remote address and {@code --connect_port}; buffers of N
 * zero bytes), symbols by {@link Symbols}, results and errno compared with packetdrill's words. It
 * also keeps the socket under test, which the packet lines refer to.
 */
final class SyscallExecutor {
    /** A call the runner or modnet's socket layer does not have: the script is skipped, not failed. */
    static final class Unsupported extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    /** A call ready to run on the system-call thread, and the check of what it wrote back. */
    interface Prepared {
        int call();

        /** Checks the values the call wrote (getsockopt's value, poll's revents) after the result matched. */
        default void verifyOutputs(int line) throws ScriptFailure {
        }
    }

    private final Config config;
    private final Testbed bed;
    private final int local;
    private final int remote;
    private final Map<Long, Integer> fds = new HashMap<>();
    private final Map<Integer, PacketMatcher.Conn> conns = new HashMap<>();
    private final List<PacketMatcher.Conn> children = new ArrayList<>();
    private final TcpInfoCode code;
    private PacketMatcher.Conn sut;
    private int sutFd = -1;
    private int nextRemotePort = 48_000;

    SyscallExecutor(Config config, Testbed bed) {
        this.config = config;
        this.bed = bed;
        this.local = (int) Ipv4Addresses.parse(config.localIp());
        this.remote = (int) Ipv4Addresses.parse(config.remoteIp());
        this.code = new TcpInfoCode(config);
    }

    private SocketCalls sys() {
        return bed.process();
    }

    PacketMatcher.Conn sut() {
        return sut;
    }

    /**
     * The connection an inbound packet belongs to: a SYN reaching the listening socket under test
     * makes a new one (the child, with a fresh remote port), which becomes the socket under test.
     */
    PacketMatcher.Conn connForInbound(TcpPacket p) {
        if (sut != null && sut.listening && p.flags().syn() && !p.flags().ack()) {
            PacketMatcher.Conn child = new PacketMatcher.Conn();
            child.localPort = sut.localPort;
            child.remotePort = nextRemotePort++;
            children.add(child);
            sut = child;
            sutFd = -1;
        }
        if (sut != null && sut.remotePort < 0) {
            sut.remotePort = nextRemotePort++;
        }
        return sut;
    }

    // --- preparing calls ---

    Prepared prepare(int line, SystemCall c) throws ScriptFailure {
        List<Expression> a = c.arguments();
        try {
            return switch (c.name()) {
                case "socket" -> socket(a);
                case "bind" -> bind(a);
                case "listen" -> {
                    int fd = fd(a, 0);
                    int backlog = (int) integer(a, 1);
                    PacketMatcher.Conn conn = conns.get(fd);
                    yield () -> {
                        int r = sys().listen(fd, backlog);
                        if (r == 0 && conn != null) {
                            conn.listening = true;
                        }
                        return r;
                    };
                }
                case "accept" -> accept(a);
                case "connect" -> connect(a);
                case "read" -> recv(fd(a, 0), (int) integer(a, 2), 0);
                case "recv", "recvfrom" -> recv(fd(a, 0), (int) integer(a, 2), (int) integer(a, 3));
                case "readv" -> recv(fd(a, 0), iovLength(a.get(1)), 0);
                case "recvmsg" -> recv(fd(a, 0), msgLength(a.get(1)), (int) integer(a, 2));
                case "write" -> send(fd(a, 0), (int) integer(a, 2), 0);
                case "send" -> send(fd(a, 0), (int) integer(a, 2), (int) integer(a, 3));
                case "sendto" -> send(fd(a, 0), (int) integer(a, 2), (int) integer(a, 3));
                case "writev" -> send(fd(a, 0), iovLength(a.get(1)), 0);
                case "sendmsg" -> send(fd(a, 0), msgLength(a.get(1)), (int) integer(a, 2));
                case "close" -> {
                    int fd = fd(a, 0);
                    yield () -> sys().close(fd);
                }
                case "shutdown" -> {
                    int fd = fd(a, 0);
                    int how = (int) integer(a, 1);
                    yield () -> sys().shutdown(fd, how);
                }
                case "fcntl" -> {
                    int fd = fd(a, 0);
                    int cmd = (int) integer(a, 1);
                    int arg = a.size() > 2 ? (int) integer(a, 2) : 0;
                    yield () -> sys().fcntl(fd, cmd, arg);
                }
                case "setsockopt" -> setsockopt(a);
                case "getsockopt" -> getsockopt(a);
                case "poll" -> poll(a);
                case "ioctl" -> ioctl(a);
                default -> throw new Unsupported("system call " + c.name() + "() is not supported by the runner");
            };
        } catch (Unsupported u) {
            throw ScriptFailure.skip(line, u.getMessage());
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new ScriptFailure(line, "runtime error in " + c.name() + " call: bad arguments: " + e.getMessage());
        }
    }

    private Prepared socket(List<Expression> a) {
        int domain = a.get(0) instanceof Expression.Ellipsis ? SocketCalls.AF_INET : (int) integer(a, 0);
        int type = (int) integer(a, 1);
        int protocol = (int) integer(a, 2);
        return () -> sys().socket(domain, type, protocol);
    }

    private Prepared bind(List<Expression> a) {
        int fd = fd(a, 0);
        SockAddr addr = address(a.get(1), local, config.bindPort());
        return () -> {
            int r = sys().bind(fd, addr);
            PacketMatcher.Conn conn = conns.get(fd);
            if (r == 0 && conn != null) {
                conn.localPort = addr.port();
            }
            return r;
        };
    }

    private Prepared connect(List<Expression> a) {
        int fd = fd(a, 0);
        SockAddr addr = address(a.get(1), remote, config.connectPort());
        PacketMatcher.Conn conn = conns.get(fd);
        if (conn != null) {
            conn.remotePort = addr.port();
        }
        return () -> sys().connect(fd, addr);
    }

    private Prepared accept(List<Expression> a) {
        int fd = fd(a, 0);
        SockAddr[] peer = new SockAddr[1];
        return new Prepared() {
            @Override
            public int call() {
                return sys().accept(fd, peer, 0);
            }


            @Override
            public void verifyOutputs(int line) {
                // the child answering the SYN of that port is now the descriptor's connection
            }
        };
    }

    private Prepared recv(int fd, int len, int flags) {
        return () -> sys().recv(fd, ByteBuffer.allocate(Math.max(0, len)), flags);
    }

    private Prepared send(int fd, int len, int flags) {
        return () -> sys().send(fd, ByteBuffer.allocate(Math.max(0, len)), flags);
    }

    private Prepared setsockopt(List<Expression> a) {
        int fd = fd(a, 0);
        int level = (int) integer(a, 1);
        int name = (int) integer(a, 2);
        int[] value = switch (a.get(3)) {
            case Expression.ListOf l when l.elements().size() == 1 -> new int[] { (int) integer(l.elements().get(0)) };
            case Expression.Linger l -> new int[] { (int) l.onoff(), (int) l.linger() };
            case Expression.Str s -> throw new Unsupported("setsockopt with a string value (\"" + s.text()
                    + "\") is not supported by SocketCalls");
            default -> new int[] { (int) integer(a.get(3)) };
        };
        return () -> sys().setsockopt(fd, level, name, value);
    }

    private Prepared getsockopt(List<Expression> a) {
        int fd = fd(a, 0);
        int level = (int) integer(a, 1);
        int name = (int) integer(a, 2);
        Expression expected = a.get(3);
        Expression len = a.size() > 4 ? a.get(4) : new Expression.Ellipsis();
        int[] value = new int[64];
        int[] count = { 0 };
        return new Prepared() {
            @Override
            public int call() {
                int r = sys().getsockopt(fd, level, name, value);
                count[0] = r;
                return r < 0 ? r : 0;
            }

            @Override
            public void verifyOutputs(int line) throws ScriptFailure {
                if (count[0] < 0) {
                    return;
                }
                if (len instanceof Expression.ListOf l && l.elements().size() == 1) {
                    long want = integer(l.elements().get(0));
                    if (want != 4L * count[0]) {
                        throw new ScriptFailure(line, "runtime error in getsockopt call: Bad getsockopt optlen: expected: "
                                + want + " actual: " + 4 * count[0]);
                    }
                }
                if (expected instanceof Expression.ListOf l && l.elements().size() == 1) {
                    long want = integer(l.elements().get(0));
                    if (want != value[0]) {
                        throw new ScriptFailure(line, "runtime error in getsockopt call: Bad getsockopt optval: expected: "
                                + want + " actual: " + value[0]);
                    }
                } else if (expected instanceof Expression.Linger g) {
                    if (g.onoff() != value[0] || g.linger() != value[1]) {
                        throw new ScriptFailure(line, "runtime error in getsockopt call: Bad getsockopt optval: expected: {onoff="
                                + g.onoff() + ", linger=" + g.linger() + "} actual: {onoff=" + value[0] + ", linger="
                                + value[1] + "}");
                    }
                }
            }
        };
    }

    /** {@code syscall_ioctl} for the requests with an int answer (SIOCINQ, SIOCOUTQ, SIOCOUTQNSD). */
    private Prepared ioctl(List<Expression> a) {
        int fd = fd(a, 0);
        int request = (int) integer(a, 1);
        Expression expected = a.get(2);
        int[] value = new int[1];
        int[] ret = { 0 };
        return new Prepared() {
            @Override
            public int call() {
                ret[0] = sys().ioctl(fd, request, value);
                return ret[0];
            }

            @Override
            public void verifyOutputs(int line) throws ScriptFailure {
                if (ret[0] < 0) {
                    return;
                }
                if (expected instanceof Expression.ListOf l && l.elements().size() == 1) {
                    long want = integer(l.elements().get(0));
                    if (want != value[0]) {
                        throw new ScriptFailure(line, "Bad ioctl optval: expected: " + want + " actual: " + value[0]);
                    }
                }
            }
        };
    }

    private Prepared poll(List<Expression> a) {
        if (!(a.get(0) instanceof Expression.ListOf l)) {
            throw new IllegalArgumentException("poll wants an array of pollfd");
        }
        List<Expression.Pollfd> want = new ArrayList<>();
        PollFd[] fdsArg = new PollFd[l.elements().size()];
        for (int i = 0; i < fdsArg.length; i++) {
            if (!(l.elements().get(i) instanceof Expression.Pollfd p)) {
                throw new IllegalArgumentException("poll wants an array of pollfd");
            }
            want.add(p);
            fdsArg[i] = new PollFd(liveFd(integer(p.fd())), (int) integer(p.events()));
        }
        int timeout = (int) integer(a, 2);
        return new Prepared() {
            @Override
            public int call() {
                return sys().poll(fdsArg, timeout);
            }

            @Override
            public void verifyOutputs(int line) throws ScriptFailure {
                for (int i = 0; i < fdsArg.length; i++) {
                    long r = integer(want.get(i).revents());
                    if (r != fdsArg[i].revents) {
                        throw new ScriptFailure(line, String.format(
                                "runtime error in poll call: Expected revents of 0x%x but got 0x%x", r, fdsArg[i].revents));
                    }
                }
            }
        };
    }

    // --- arguments ---

    private SockAddr address(Expression e, int defaultAddress, int defaultPort) {
        return switch (e) {
            case Expression.Ellipsis x -> new SockAddr(defaultAddress, defaultPort);
            case Expression.Sockaddr s -> {
                long addr = Ipv4Addresses.parse(s.address());
                if (addr < 0) {
                    throw new Unsupported("address " + s.address() + " is not IPv4");
                }
                yield new SockAddr((int) addr, s.port());
            }
            default -> throw new IllegalArgumentException("bad address " + e);
        };
    }

    private int iovLength(Expression e) {
        int sum = 0;
        if (e instanceof Expression.ListOf l) {
            for (Expression x : l.elements()) {
                if (x instanceof Expression.Iovec v) {
                    sum += (int) v.length();
                }
            }
        }
        return sum;
    }

    private int msgLength(Expression e) {
        if (e instanceof Expression.Msghdr m) {
            if (!m.control().elements().isEmpty()) {
                throw new Unsupported("control messages (msg_control) are not supported by SocketCalls");
            }
            return iovLength(m.iov());
        }
        throw new IllegalArgumentException("bad msghdr " + e);
    }

    private int fd(List<Expression> a, int i) {
        return liveFd(integer(a, i));
    }

    private int liveFd(long scriptFd) {
        Integer live = fds.get(scriptFd);
        return live != null ? live : (int) scriptFd;
    }

    private static long integer(List<Expression> a, int i) {
        return integer(a.get(i));
    }

    static long integer(Expression e) {
        OptionalLong v = Symbols.integer(e);
        if (v.isEmpty()) {
            if (e instanceof Expression.Word w) {
                throw new Unsupported("symbol " + w.name() + " is unknown");
            }
            throw new IllegalArgumentException("expected an integer, not " + e);
        }
        return v.getAsLong();
    }

    // --- results ---

    /** packetdrill's {@code end_syscall}: result, errno, then what the call wrote back. */
    void verify(int line, SystemCall c, Prepared p, int live) throws ScriptFailure {
        String where = "runtime error in " + c.name() + " call: ";
        long expected = integer(c.result());
        int actual = live < 0 ? -1 : live;
        int errno = live < 0 ? -live : 0;
        boolean fdResult = c.name().equals("socket") || c.name().equals("accept");
        if (fdResult && expected >= 0) {
            if (actual < 0) {
                throw new ScriptFailure(line, where + "Expected non-negative result but got " + actual + " with errno "
                        + errno + " (" + strerror(errno) + ")");
            }
            fds.put(expected, live);
            PacketMatcher.Conn conn;
            if (c.name().equals("socket")) {
                conn = new PacketMatcher.Conn();
                sut = conn;
                sutFd = live;
            } else {
                conn = acceptedChild(live);
                if (conn == sut) {
                    sutFd = live;
                }
            }
            conns.put(live, conn);
        } else if (actual != expected) {
            throw new ScriptFailure(line, where + "Expected result " + expected + " but got " + actual
                    + (actual < 0 ? " with errno " + errno + " (" + strerror(errno) + ")" : ""));
        }
        if (c.errno().isPresent()) {
            long want = Symbols.value(c.errno().get()).orElseThrow(
                    () -> ScriptFailure.skip(line, "errno " + c.errno().get() + " is unknown"));
            if (want != errno) {
                throw new ScriptFailure(line, where + "Expected errno " + want + " (" + strerror((int) want)
                        + ") but got " + errno + " (" + strerror(errno) + ")");
            }
        }
        p.verifyOutputs(line);
        if (c.name().equals("close") && live == 0) {
            long scriptFd = integer(c.arguments().get(0));
            Integer liveFd = fds.remove(scriptFd);
            if (liveFd != null) {
                conns.remove(liveFd);
            }
        }
    }

    /** The child whose remote port the accepted socket's peer has (the last one when none matches). */
    private PacketMatcher.Conn acceptedChild(int liveFd) {
        SockAddr[] peer = new SockAddr[1];
        if (sys().getpeername(liveFd, peer) >= 0 && peer[0] != null) {
            for (PacketMatcher.Conn child : children) {
                if (child.remotePort == peer[0].port()) {
                    return child;
                }
            }
        }
        return children.isEmpty() ? new PacketMatcher.Conn() : children.getLast();
    }

    static String strerror(int errno) {
        if (errno == 0) {
            return "Success";
        }
        Errno e = Errno.of(errno);
        return e == null ? "Unknown error " + errno : e.text();
    }

    // --- %{ }% ---

    void snapshot(PythonCode c, int line) throws ScriptFailure {
        code.snapshot(c, line, sys(), sutFd);
    }

    void runCode() throws ScriptFailure {
        code.run();
    }

    void closeAll() {
        if (sys() == null) {
            return; // the testbed never came up
        }
        for (Integer fd : new ArrayList<>(fds.values())) {
            sys().close(fd);
        }
        fds.clear();
    }
}
