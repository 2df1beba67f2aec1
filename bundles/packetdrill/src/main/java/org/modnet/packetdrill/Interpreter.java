package org.modnet.packetdrill;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.modnet.api.net.NetException;
import org.modnet.socket.api.SleepListener;

/**
 * Runs one parsed {@link Script} against modnet's TCP on a {@link Testbed}, as packetdrill's
 * {@code run.c} does: each event waits for its time, inbound packets are injected on {@code tun0},
 * outbound lines are matched against what the stack sent ({@link PacketMatcher}), system calls go to
 * the socket layer ({@link SyscallExecutor}), back-quoted commands to modnet's own tools
 * ({@link ShellCommands}). A blocking call ({@code T...E}) runs on the system-call thread while the
 * later events go on; it must return at E within the tolerance. Whether a call has blocked, and whether
 * a step of time woke it, the socket layer tells ({@link SyscallSleep}).
 */
public final class Interpreter {
    /** How long an outbound line waits for its packet past its expected time (run.c's timeout). */
    static final long PACKET_TIMEOUT_USECS = 2_000_000;
    /** The step of time while the runner waits (the timer wheel's resolution). */
    static final long STEP_NANOS = 1_000_000;

    private final Script script;
    private final Config config;
    private final Testbed bed;
    private final PrintStream verbose;
    private final Path dir;
    private final SyscallExecutor syscalls;
    private final PacketMatcher packets;
    private final ShellCommands shell;
    private final ExecutorService syscallThread;
    private final SyscallSleep sleep = new SyscallSleep();

    private long startNanos;
    /** The live time (µs since start) the previous event finished at: the base of a relative time. */
    private long lastLiveUsecs;
    /** The script time (µs) of the previous event. */
    private long lastScriptUsecs;
    private Event previous;
    private Pending pending;

    /** A blocking call in flight: its event, when it must end, and its future. */
    private record Pending(Event event, SystemCall call, long endUsecs, Future<Integer> future,
            SyscallExecutor.Prepared prepared, long[] doneNanos) {
    }

    public Interpreter(Script script, Testbed bed, PrintStream verbose) {
        this.script = script;
        this.config = script.config();
        this.bed = bed;
        this.verbose = verbose;
        Path p = Path.of(script.path()).toAbsolutePath().getParent();
        this.dir = p == null ? Path.of(".") : p;
        this.syscalls = new SyscallExecutor(config, bed);
        this.packets = new PacketMatcher(config, bed, syscalls);
        this.shell = new ShellCommands(bed, dir);
        this.syscallThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "packetdrill-syscall");
            t.setDaemon(true);
            sleep.worker(t);
            return t;
        });
    }

    /** Runs the script: pass, failed with packetdrill's message, or skipped with a reason. */
    public Outcome run() {
        boolean initRan = false;
        SleepListener.add(sleep);
        try {
            if (config.ipVersion() != Config.IpVersion.IPV4) {
                throw ScriptFailure.skip(0, "only IPv4 is supported (--ip_version=" + config.ipVersion().option + ")");
            }
            try {
                bed.setUp(config);
            } catch (NetException e) {
                throw new ScriptFailure(0, "setting up tun0: " + e.getMessage());
            }
            if (script.initCommand().isPresent()) {
                shell.runInit(script.initCommand().get());
                initRan = true;
            }
            startNanos = bed.nanoTime();
            for (Event e : script.events()) {
                runEvent(e);
                previous = e;
            }
            finishPending(true);
            packets.finish();
            syscalls.runCode();
            return Outcome.pass();
        } catch (ScriptFailure f) {
            String where = f.line > 0 ? script.path() + ":" + f.line + ": " : script.path() + ": ";
            return new Outcome(f.skip ? Outcome.Status.SKIP : Outcome.Status.FAIL, where + f.getMessage());
        } finally {
            if (initRan && script.cleanupCommand().isPresent()) {
                shell.runCleanup(script.cleanupCommand().get());
            }
            syscallThread.shutdownNow();
            syscalls.closeAll();
            SleepListener.remove(sleep);
        }
    }

    // --- time ---

    long nowUsecs() {
        return (bed.nanoTime() - startNanos) / 1000;
    }

    private long tolerance(long scriptUsecs) {
        long t = config.toleranceUsecs();
        if (!bed.virtual() && t == DEFAULT_TOLERANCE_USECS) {
            t = LIVE_TOLERANCE_USECS;
        }
        double pct = config.tolerancePercent() / 100.0 * Math.max(0, scriptUsecs - lastScriptUsecs);
        return Math.max(t, (long) pct);
    }

    static final long DEFAULT_TOLERANCE_USECS = 4000;

    /** Wall time is not exact: the live command widens packetdrill's default 4 ms unless another is given. */
    static final long LIVE_TOLERANCE_USECS = 25_000;

    /** The base a relative time counts from (run.c's anchor rule). */
    private long base(Event e) {
        if (previous != null && isInbound(previous) && isInbound(e)) {
            return lastScriptUsecs;
        }
        return lastLiveUsecs;
    }

    private static boolean isInbound(Event e) {
        return e.action() instanceof Packet p && p.direction() == Packet.Direction.INBOUND;
    }

    private long start(Event e) {
        EventTime t = e.time();
        return switch (t.type()) {
            case ABSOLUTE, ABSOLUTE_RANGE -> t.usecs();
            case RELATIVE, RELATIVE_RANGE -> base(e) + t.usecs();
            case ANY -> lastLiveUsecs;
        };
    }

    private long end(Event e, long start) {
        EventTime t = e.time();
        return switch (t.type()) {
            case ABSOLUTE_RANGE -> t.endUsecs();
            case RELATIVE_RANGE -> base(e) + t.endUsecs();
            default -> start;
        };
    }

    /** Moves time on to {@code usecs} after the start, a step at a time, letting a blocked call run. */
    void waitUntil(long usecs) {
        long target = startNanos + usecs * 1000;
        while (bed.nanoTime() < target) {
            bed.advanceTo(Math.min(target, bed.nanoTime() + STEP_NANOS));
            letSyscallRun();
        }
        bed.settle();
        letSyscallRun();
    }

    /** One step of time for a sniffing outbound line. */
    void step() {
        bed.advanceTo(bed.nanoTime() + STEP_NANOS);
        letSyscallRun();
    }

    /**
     * Gives the system-call thread the chance to run what the last step woke: waits until the call in
     * flight has returned, or sleeps again with nothing to wake it.
     */
    private void letSyscallRun() {
        if (pending == null || pending.future().isDone()) {
            return;
        }
        if (sleep.settle()) {
            awaitDone(pending.future());
        }
    }

    /** The call said it returned: its future completes at once. */
    private static void awaitDone(Future<?> f) {
        try {
            f.get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // the verdict is taken from the future later
        }
    }

    // --- events ---

    private void runEvent(Event e) throws ScriptFailure {
        long start = start(e);
        long end = end(e, start);
        checkPending(e.line());
        switch (e.action()) {
            case TcpPacket p when p.direction() == Packet.Direction.OUTBOUND -> {
                bed.settle();
                letSyscallRun();
                long deadline = e.time().type() == EventTime.Type.ANY ? nowUsecs() + 10 * PACKET_TIMEOUT_USECS
                        : end + PACKET_TIMEOUT_USECS;
                LivePacket live = packets.expect(e.line(), p, this, deadline);
                long at = (live.nanos() - startNanos) / 1000;
                if (e.time().type() != EventTime.Type.ANY) {
                    verifyTime(e.line(), "outbound packet", start, end, at);
                }
                lastLiveUsecs = at;
                lastScriptUsecs = e.time().type() == EventTime.Type.ANY ? at : start;
                verbose("outbound sniffed packet", at, live.summary());
                return;
            }
            case TcpPacket p -> {
                waitUntil(start);
                verifyLate(e.line(), "inbound packet", start);
                packets.inject(e.line(), p);
                verbose("inbound injected packet", nowUsecs(), p.toScript());
                bed.settle();
            }
            case IcmpPacket p when p.direction() == Packet.Direction.INBOUND -> {
                waitUntil(start);
                verifyLate(e.line(), "inbound packet", start);
                packets.injectIcmp(e.line(), p);
                verbose("inbound injected packet", nowUsecs(), "icmp " + p.type() + " " + p.code());
                bed.settle();
            }
            case Packet p -> throw ScriptFailure.skip(e.line(), "only TCP packets and inbound ICMP are supported ("
                    + p.getClass().getSimpleName() + ")");
            case SystemCall c -> {
                waitUntil(start);
                verifyLate(e.line(), "system call", start);
                verbose(c.name() + " syscall", nowUsecs(), "");
                runSyscall(e, c, start);
            }
            case ShellCommand c -> {
                waitUntil(start);
                shell.run(c, e.line());
                bed.settle();
            }
            case PythonCode c -> {
                waitUntil(start);
                syscalls.snapshot(c, e.line());
            }
        }
        lastLiveUsecs = Math.max(start, nowUsecs());
        lastScriptUsecs = start;
    }

    /** With -v: what happened when, as packetdrill's verbose mode prints it. */
    private void verbose(String what, long usecs, String detail) {
        if (verbose != null) {
            verbose.printf("%s: %9.6f %s%n", what, usecs / 1e6, detail);
        }
    }

    private void verifyLate(int line, String what, long expected) throws ScriptFailure {
        long now = nowUsecs();
        long tol = tolerance(expected);
        if (now > expected + tol) {
            throw new ScriptFailure(line, String.format(
                    "timing error: expected %s at %.6f sec but happened at %.6f sec; tolerance %.6f sec", what,
                    expected / 1e6, now / 1e6, tol / 1e6));
        }
    }

    private void verifyTime(int line, String what, long start, long end, long actual) throws ScriptFailure {
        long tol = tolerance(start);
        if (actual < start - tol || actual > end + tol) {
            String expected = start == end ? String.format("%.6f", start / 1e6)
                    : String.format("%.6f~%.6f", start / 1e6, end / 1e6);
            throw new ScriptFailure(line, String.format(
                    "timing error: expected %s at %s sec but happened at %.6f sec; tolerance %.6f sec", what, expected,
                    actual / 1e6, tol / 1e6));
        }
    }

    private void runSyscall(Event e, SystemCall c, long start) throws ScriptFailure {
        if (pending != null) {
            finishPending(false);
        }
        SyscallExecutor.Prepared call = syscalls.prepare(e.line(), c);
        long[] doneNanos = { -1 };
        Callable<Integer> task = () -> {
            try {
                int r = call.call();
                doneNanos[0] = bed.nanoTime();
                return r;
            } finally {
                sleep.returned();
            }
        };
        sleep.calling();
        Future<Integer> f = syscallThread.submit(task);
        // the call has returned, or sleeps in the socket layer with nothing to wake it: it has blocked
        boolean done = sleep.settle();
        if (done) {
            awaitDone(f);
        }
        if (c.blocking()) {
            long endUsecs = c.blockingEndUsecs().getAsLong()
                    + (e.time().type() == EventTime.Type.RELATIVE ? base(e) : 0);
            pending = new Pending(e, c, endUsecs, f, call, doneNanos);
            if (done) {
                checkPending(e.line());
            }
            return;
        }
        if (!done) {
            // packetdrill's own thread would sleep here until the call returns: wait for it likewise
            pending = new Pending(e, c, -1, f, call, doneNanos);
            finishPending(false);
            return;
        }
        syscalls.verify(e.line(), c, call, result(f, e.line(), c));
    }

    private int result(Future<Integer> f, int line, SystemCall c) throws ScriptFailure {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException x) {
            Throwable cause = x.getCause();
            if (cause instanceof SyscallExecutor.Unsupported u) {
                throw ScriptFailure.skip(line, u.getMessage());
            }
            throw new ScriptFailure(line, "runtime error in " + c.name() + " call: " + cause);
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            throw new ScriptFailure(line, "interrupted");
        }
    }

    /** Verifies a blocking call that has returned. */
    private void checkPending(int line) throws ScriptFailure {
        if (pending == null || !pending.future().isDone()) {
            return;
        }
        Pending p = pending;
        pending = null;
        int r = result(p.future(), p.event().line(), p.call());
        syscalls.verify(p.event().line(), p.call(), p.prepared(), r);
        if (p.endUsecs() >= 0) {
            long at = (p.doneNanos()[0] - startNanos) / 1000;
            long tol = tolerance(p.endUsecs());
            if (Math.abs(at - p.endUsecs()) > tol) {
                throw new ScriptFailure(p.event().line(), String.format(
                        "timing error: expected system call return at %.6f sec but happened at %.6f sec; tolerance %.6f sec",
                        p.endUsecs() / 1e6, at / 1e6, tol / 1e6));
            }
        }
    }

    /** Waits (moving time on) for the call in flight to return, then verifies it. */
    private void finishPending(boolean atEnd) throws ScriptFailure {
        if (pending == null) {
            return;
        }
        long limit = nowUsecs() + (pending.endUsecs() >= 0 ? Math.max(0, pending.endUsecs() - nowUsecs()) : 0)
                + PACKET_TIMEOUT_USECS;
        while (!pending.future().isDone() && nowUsecs() < limit) {
            step();
        }
        if (!pending.future().isDone()) {
            int line = pending.event().line();
            pending.future().cancel(true);
            pending = null;
            throw new ScriptFailure(line, atEnd ? "blocking system call still in progress at the end of the script"
                    : "system call did not return (timed out)");
        }
        checkPending(pending.event().line());
    }

    Testbed testbed() {
        return bed;
    }

    long startNanos() {
        return startNanos;
    }
}
