package org.modnet.console;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import org.apache.felix.service.command.CommandSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control socket of a running instance, for {@code bin/modnet attach}. Two locks keep others
 * out: the socket file is mode 0600 in a 0700 directory of the instance's user ({@link RunDir}
 * refuses one another user made), and every connection's peer credentials (SO_PEERCRED) must name
 * the user who owns the instance, so even a socket whose mode was widened, or a peer that can
 * ignore file modes, is refused. The client checks the same the other way round.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    private final Path path;
    private final ServerSocketChannel server;
    private final UserPrincipal owner;
    private final Function<SessionStreams, CommandSession> sessions;
    private final Thread acceptor;
    /** Commands running now: close() lets them send their status (shutdown itself is one). */
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();

    /** The streams a new attach session writes to. */
    record SessionStreams(InputStream in, PrintStream out, PrintStream err) {
    }

    ControlServer(String instance, Function<SessionStreams, CommandSession> sessions) throws IOException {
        Path dir = RunDir.ensurePrivate();
        this.path = dir.resolve(instance + ".sock");
        this.sessions = sessions;
        removeStale(instance, path);
        this.server = bindPrivate(dir, path);
        this.owner = Files.getOwner(path);
        this.acceptor = Thread.ofPlatform().name("modnet-control-" + instance).daemon().start(this::acceptLoop);
        LOG.info("control socket {}", path);
    }

    /** A socket left by an instance that died goes; a live one, or one not ours, is refused. */
    private static void removeStale(String instance, Path path) throws IOException {
        RunDir.Stat s;
        try {
            s = RunDir.FILES.lstat(path);
        } catch (NoSuchFileException e) {
            return;
        }
        if (s.isSymbolicLink() || !s.isSocket()) {
            throw new RunDir.Refused(path + " is not a socket: refusing (remove it)");
        }
        if (s.uid() != RunDir.uid()) {
            throw new RunDir.Refused(path + " is owned by uid " + s.uid() + ", not by you: refusing (remove it)");
        }
        if (isLive(path)) {
            throw new IOException("modnet: instance '" + instance + "' is already running (" + path
                    + "); attach to it with: bin/modnet attach -n " + instance);
        }
        Files.delete(path);
    }

    /**
     * Binds under a private name, makes it 0600, then links it to the socket's name: the name
     * exists only with its final mode, and link(2), unlike rename, fails if a twin took the name.
     */
    private static ServerSocketChannel bindPrivate(Path dir, Path path) throws IOException {
        Path temporary = dir.resolve(".bind-" + ProcessHandle.current().pid() + ".sock");
        Files.deleteIfExists(temporary);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(temporary));
            Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
            Files.createLink(path, temporary);
        } catch (FileAlreadyExistsException e) {
            server.close();
            throw new IOException("modnet: " + path + " appeared while this instance started: is a twin starting?");
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        } finally {
            Files.deleteIfExists(temporary);
        }
        return server;
    }

    Path path() {
        return path;
    }

    static boolean isLive(Path socket) {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel client = server.accept();
                Thread.ofVirtual().name("modnet-attach").start(() -> serve(client));
            } catch (IOException e) {
                if (server.isOpen()) {
                    LOG.warn("control socket: {}", e.toString());
                }
            }
        }
    }

    private void serve(SocketChannel channel) {
        try (channel) {
            DataOutputStream out = new DataOutputStream(Channels.newOutputStream(channel));
            UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            if (!peer.user().equals(owner)) {
                LOG.warn("control socket: refused {} (the instance belongs to {})", peer.user().getName(), owner.getName());
                Frames.write(out, Frames.ERR, "modnet attach: permission denied: the instance belongs to "
                        + owner.getName() + "\n");
                Frames.writeStatus(out, 126);
                return;
            }
            Frames.write(out, Frames.READY, "");
            DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
            Quiet quiet = new Quiet();
            PrintStream sessionOut = new PrintStream(quiet.watch(new Frames.FrameOutputStream(out, Frames.OUT)), true, StandardCharsets.UTF_8);
            PrintStream sessionErr = new PrintStream(quiet.watch(new Frames.FrameOutputStream(out, Frames.ERR)), true, StandardCharsets.UTF_8);
            AttachInput stdin = new AttachInput(n -> {
                try {
                    Frames.writeInt(out, Frames.CREDIT, n);
                } catch (IOException e) {
                    // the client is gone: the reader ends the session
                }
            });
            CommandSession session = sessions.apply(new SessionStreams(stdin, sessionOut, sessionErr));
            Executor executor = new Executor(session, sessionOut, sessionErr);
            BlockingQueue<Frames.Frame> frames = new LinkedBlockingQueue<>();
            AtomicBoolean served = new AtomicBoolean();
            Thread.ofVirtual().name("modnet-attach-reader").start(() -> readFrames(in, frames, executor, served, quiet, stdin));
            try {
                Frames.Frame frame;
                while ((frame = frames.take()).type() != Frames.QUIT) {
                    if (frame.type() != Frames.COMMAND) {
                        throw new IOException("attach: unexpected frame type " + (char) frame.type());
                    }
                    inFlight.incrementAndGet();
                    try {
                        int status = executor.executeScript(frame.text());
                        quiet.afterCommand(); // an interrupted command's last words before its status
                        sessionOut.flush();
                        sessionErr.flush();
                        Frames.writeStatus(out, status);
                    } finally {
                        inFlight.decrementAndGet();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                served.set(true);
                executor.close();
            }
        } catch (IOException e) {
            LOG.debug("attach session ended: {}", e.toString());
        }
    }

    private static final Frames.Frame GONE = new Frames.Frame(Frames.QUIT, new byte[0]);

    /**
     * Reads the client's frames for the session; an interrupt (the client's Ctrl-C) interrupts the
     * running command at once. When the client goes away (its Ctrl-C kills it, or
     * its terminal closes) the command it started is interrupted, as a hangup ends a shell's job,
     * until the session has finished: {@code nc -l} does not outlive the attach that ran it.
     */
    private static void readFrames(DataInputStream in, BlockingQueue<Frames.Frame> frames, Executor executor, AtomicBoolean served,
            Quiet quiet, AttachInput stdin) {
        try {
            for (Frames.Frame f = Frames.read(in); f != null; f = Frames.read(in)) {
                if (f.type() == Frames.INTERRUPT) {
                    quiet.interrupted();
                    executor.interrupt(); // the client's Ctrl-C: now, not after the command it would end
                    continue;
                }
                if (f.type() == Frames.IN) {
                    stdin.feed(f.payload()); // within the client's credit: never waits
                    continue;
                }
                if (f.type() == Frames.IN_EOF) {
                    stdin.end();
                    continue;
                }
                frames.add(f);
                if (f.type() == Frames.QUIT) {
                    return;
                }
            }
        } catch (IOException e) {
            LOG.debug("attach connection: {}", e.toString());
        }
        stdin.end(); // a hangup: a command reading its input sees the end
        frames.add(GONE);
        try {
            while (!served.get()) {
                executor.interrupt();
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            Thread.yield();
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing control socket: {}", e.toString());
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", path, e.toString());
        }
        acceptor.interrupt();
    }
}
