package org.modnet.console;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import jdk.net.ExtendedSocketOptions;

/**
 * {@code bin/modnet attach [-n NAME] [-c "cmd; cmd"]}: runs commands in a running instance through
 * its control socket, or, without {@code -c}, reads command lines from standard input (with a prompt
 * when it is a terminal). Plain Java: it runs outside OSGi, with this bundle's jar as its class path.
 * Ctrl-C ends the running command in the instance, and the session goes on. The exit status is the
 * last command's (126 when the instance refuses the caller, or when the run directory, the socket or
 * the process behind it belongs to another user: then the client sends nothing).
 */
public final class AttachClient {
    private AttachClient() {
    }

    public static void main(String[] argv) {
        System.exit(run(Arrays.asList(argv), System.in, System.out, System.err));
    }

    static int run(List<String> argv, InputStream stdin, PrintStream stdout, PrintStream stderr) {
        List<String> args = new ArrayList<>(argv);
        if (!args.isEmpty() && args.get(0).equals("attach")) {
            args.remove(0);
        }
        Options options;
        try {
            options = Options.parse(args, null);
        } catch (IllegalArgumentException e) {
            stderr.println(e.getMessage().replace("modnet:", "modnet attach:"));
            stderr.println("Usage: bin/modnet attach [-n NAME] [-c \"cmd; cmd\"]");
            return 2;
        }
        Path socket = RunDir.socket(options.name());
        try {
            String refusal = untrusted(socket);
            if (refusal != null) {
                stderr.println("modnet attach: " + refusal);
                return 126;
            }
        } catch (NoSuchFileException e) {
            stderr.println("modnet attach: no instance named '" + options.name() + "' is running (no " + socket + ")");
            return 1;
        } catch (IOException e) {
            stderr.println("modnet attach: " + socket + ": " + e);
            return 1;
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            UserPrincipal server = channel.getOption(ExtendedSocketOptions.SO_PEERCRED).user();
            if (!server.equals(me()) && !server.equals(root())) {
                // nothing sent, nothing read: the commands are for the instance only
                stderr.println("modnet attach: " + socket + " is served by user " + server.getName()
                        + ", not by you: refusing");
                return 126;
            }
            DataOutputStream out = new DataOutputStream(Channels.newOutputStream(channel));
            DataInputStream in = new DataInputStream(Channels.newInputStream(channel));
            Frames.Frame hello = Frames.read(in);
            if (hello == null) {
                throw new IOException("the instance closed the connection");
            }
            InputPump pump = new InputPump(out);
            if (hello.type() != Frames.READY) {
                return relay(hello, in, stdout, stderr, pump); // refused: the reason, then the status
            }
            if (options.commands() != null) {
                CtrlC.handle(() -> interrupt(out));
                Frames.write(out, Frames.COMMAND, options.commands());
                pump.copyAll(stdin); // standard input to the command, as ssh HOST CMD gives it
                int status = relay(in, stdout, stderr, pump);
                Frames.write(out, Frames.QUIT, "");
                return status;
            }
            return interactive(options.name(), stdin, in, out, stdout, stderr, pump);
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            stderr.println("modnet attach: " + socket + ": " + why);
            return 1;
        }
    }

    /**
     * Why the run directory or socket is not to be trusted (another user made it, or may replace
     * it), or null; {@link NoSuchFileException} when there is no instance to attach to.
     */
    private static String untrusted(Path socket) throws IOException {
        Path dir = socket.getParent();
        int uid = RunDir.uid();
        try {
            RunDir.checkDir(dir, uid, RunDir.FILES);
        } catch (RunDir.Refused e) {
            return e.getMessage();
        }
        if (!Files.isExecutable(dir)) {
            return "permission denied: " + dir + " belongs to another user (uid "
                    + RunDir.FILES.lstat(dir).uid() + ")";
        }
        try {
            RunDir.checkSocket(socket, uid, RunDir.FILES);
        } catch (RunDir.Refused e) {
            return e.getMessage();
        }
        return null;
    }

    private static UserPrincipal me() throws IOException {
        return Files.getOwner(Path.of("/proc/self"));
    }

    private static UserPrincipal root() throws IOException {
        UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
        try {
            return users.lookupPrincipalByName("root");
        } catch (UserPrincipalNotFoundException e) {
            return users.lookupPrincipalByName("0"); // no name for uid 0: the JDK reads the number
        }
    }

    /**
     * Lines typed at the prompt are commands; lines typed while a command runs are its standard input
     * (as a shell's foreground job reads the terminal), and end of file then is its end of input.
     */
    private static int interactive(String name, InputStream stdin, DataInputStream in, DataOutputStream out, PrintStream stdout,
            PrintStream stderr, InputPump pump) throws IOException {
        boolean terminal = System.console() != null && System.console().isTerminal();
        String prompt = "modnet[" + name + "]> ";
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.BlockingQueue<String> commands = new java.util.concurrent.ArrayBlockingQueue<>(64);
        String end = new String("end of input"); // compared by identity
        // a command line read waits until it runs: the lines after it are its input, as a shell reading a
        // pipe leaves what follows a command line for the command
        java.util.concurrent.Semaphore taken = new java.util.concurrent.Semaphore(0);
        Thread reader = Thread.ofPlatform().daemon().name("modnet-attach-stdin").start(() -> {
            BufferedReader lines = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
            try {
                for (String line; (line = lines.readLine()) != null;) {
                    if (running.get()) {
                        pump.send((line + "\n").getBytes(StandardCharsets.UTF_8));
                    } else {
                        commands.put(line);
                        taken.acquire();
                    }
                }
                if (running.get()) {
                    pump.end();
                }
                commands.put(end);
            } catch (IOException | InterruptedException e) {
                commands.offer(end);
            }
        });
        CtrlC.handle(() -> {
            if (running.get()) {
                interrupt(out); // the command's end comes back as its status, and the prompt after it
            } else if (terminal) {
                stdout.print("\n" + prompt); // the terminal dropped the line typed so far, as a shell's prompt does
                stdout.flush();
            }
        });
        int status = 0;
        try {
            while (true) {
                if (terminal) {
                    stdout.print(prompt);
                    stdout.flush();
                }
                String line = commands.take();
                if (line == end || line.strip().equals("exit")) {
                    Frames.write(out, Frames.QUIT, "");
                    return status;
                }
                if (line.isBlank()) {
                    taken.release();
                    continue;
                }
                running.set(true);
                taken.release();
                try {
                    Frames.write(out, Frames.COMMAND, line);
                    status = relay(in, stdout, stderr, pump);
                } finally {
                    running.set(false);
                }
                if (status == 126) {
                    return status;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return status;
        } finally {
            reader.interrupt();
        }
    }

    /**
     * Sends the client's standard input to the instance as {@link Frames#IN} frames, never more bytes
     * ahead of what its commands read than the credit the instance gave ({@link AttachInput#WINDOW} to
     * start, then {@link Frames#CREDIT} frames), and {@link Frames#IN_EOF} at the end.
     */
    static final class InputPump {
        private final DataOutputStream out;
        private final java.util.concurrent.Semaphore credit = new java.util.concurrent.Semaphore(AttachInput.WINDOW);

        InputPump(DataOutputStream out) {
            this.out = out;
        }

        /** Copies all of {@code stdin} in the background, then its end. */
        void copyAll(InputStream stdin) {
            Thread.ofPlatform().daemon().name("modnet-attach-stdin").start(() -> {
                byte[] buf = new byte[8192];
                try {
                    for (int n; (n = stdin.read(buf)) >= 0;) {
                        if (n > 0) {
                            send(java.util.Arrays.copyOf(buf, n));
                        }
                    }
                    end();
                } catch (IOException | InterruptedException e) {
                    // the instance went away, or this client ends: nothing more to send
                }
            });
        }

        /** One chunk, once the credit allows it (at most the window in one frame). */
        void send(byte[] bytes) throws IOException, InterruptedException {
            for (int off = 0; off < bytes.length;) {
                int n = Math.min(bytes.length - off, AttachInput.CREDIT_STEP);
                credit.acquire(n);
                Frames.write(out, Frames.IN, bytes, off, n);
                off += n;
            }
        }

        void end() throws IOException {
            Frames.write(out, Frames.IN_EOF, "");
        }

        void credit(int n) {
            credit.release(n);
        }
    }

    /**
     * Ctrl-C: the instance interrupts the command this client runs, which then ends with its status
     * (130 for most), and the session goes on, as with the local shell.
     */
    private static void interrupt(DataOutputStream out) {
        try {
            Frames.write(out, Frames.INTERRUPT, "");
        } catch (IOException e) {
            // the connection is gone: the instance interrupts the command on its own
        }
    }

    /** Copies output frames to stdout/stderr until the command's status frame; credit goes to the pump. */
    private static int relay(DataInputStream in, PrintStream stdout, PrintStream stderr, InputPump pump) throws IOException {
        return relay(Frames.read(in), in, stdout, stderr, pump);
    }

    private static int relay(Frames.Frame first, DataInputStream in, PrintStream stdout, PrintStream stderr, InputPump pump)
            throws IOException {
        for (Frames.Frame frame = first; frame != null; frame = Frames.read(in)) {
            switch (frame.type()) {
                case Frames.OUT -> {
                    stdout.write(frame.payload());
                    stdout.flush();
                }
                case Frames.ERR -> {
                    stderr.write(frame.payload());
                    stderr.flush();
                }
                case Frames.STATUS -> {
                    return frame.status();
                }
                case Frames.CREDIT -> pump.credit(frame.status());
                default -> throw new IOException("unexpected frame type " + (char) frame.type());
            }
        }
        throw new IOException("the instance closed the connection");
    }
}
