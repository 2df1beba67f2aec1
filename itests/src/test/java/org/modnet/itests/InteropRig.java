package org.modnet.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.modnet.itests.Processes.Result;

/**
 * What the interop tests stand on: a {@code bin/modnet --stay} instance of their own with its devices
 * (TAPs, an AF_PACKET link), the Linux network namespaces at the other end, and a scratch folder;
 * {@link #close} shuts the instance down and deletes the namespaces and the folder. Names carry the
 * test's process id, so two runs on one machine do not meet.
 */
final class InteropRig implements AutoCloseable {
    static final String MODNET = Processes.modnet().toString();
    /** What the tests put in their instance, namespace and device names. */
    static final long ID = ProcessHandle.current().pid() % 10000;

    private final String instance;
    private final List<String> namespaces = new ArrayList<>();
    private Process stack;
    private Path log;
    private Path dir;

    InteropRig(String instance) {
        this.instance = instance;
    }

    /** A network namespace of the test's, deleted by {@link #close}. */
    String netns(String name) throws Exception {
        linux("ip", "netns", "add", name);
        namespaces.add(name);
        return name;
    }

    /**
     * Starts the instance, running {@code commands} (which make the devices) as it comes up, and waits up
     * to {@code seconds} until {@code ip link show dev} answers there.
     */
    void start(String commands, String dev, int seconds) throws Exception {
        log = Files.createTempFile("modnet-" + instance, ".log");
        stack = Processes.start(log, MODNET, "--stay", "-n", instance, "-c", commands);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (attach("ip link show " + dev).status() != 0) {
            assertTrue(System.nanoTime() < deadline && stack.isAlive(), "modnet did not come up:\n" + Files.readString(log));
            Thread.sleep(100);
        }
    }

    /** The Linux end of TAP {@code tap} into {@code netns} as NET.1/24, modnet's end NET.2/24, both up. */
    void wireTap(String tap, String netns, String net) throws Exception {
        linux("ip", "link", "set", tap, "netns", netns);
        linux("ip", "-n", netns, "addr", "add", net + ".1/24", "dev", tap);
        linux("ip", "-n", netns, "link", "set", tap, "up");
        modnet("ip addr add " + net + ".2/24 dev " + tap + " ; ip link set " + tap + " up");
    }

    /** The instance's console output so far (what it logged). */
    Path log() {
        return log;
    }

    /** A scratch folder, made on first use and deleted with all it holds by {@link #close}. */
    Path dir() throws Exception {
        if (dir == null) {
            dir = Files.createTempDirectory("modnet-" + instance);
        }
        return dir;
    }

    /** Runs commands in the instance ({@code bin/modnet attach -c}); they must succeed. Returns what they printed. */
    String modnet(String commands) throws Exception {
        Result r = attach(commands);
        assertEquals(0, r.status(), commands + "\n" + r);
        return r.out();
    }

    /** Runs commands in the instance, success or not. */
    Result attach(String commands) throws Exception {
        return Processes.run(MODNET, "attach", "-n", instance, "-c", commands);
    }

    /** Waits up to 20 s until a TCP socket of the instance listens on {@code port}; fails if {@code server} ends first. */
    void awaitListening(int port, Process server, Path serverLog) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!modnet("ss -t -l -n").contains(":" + port + " ")) {
            assertTrue(System.nanoTime() < deadline && server.isAlive(), "modnet did not listen on " + port + ":\n" + Files.readString(serverLog));
            Thread.sleep(50);
        }
    }

    /** Runs a Linux command; it must succeed. */
    static void linux(String... command) throws Exception {
        Result r = Processes.run(command);
        assertEquals(0, r.status(), String.join(" ", command) + "\n" + r);
    }

    /** Runs a Linux command in {@code netns} ({@code ip netns exec}), success or not. */
    static Result inNetns(String netns, String... command) throws Exception {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        full.addAll(List.of(command));
        return Processes.run(full.toArray(String[]::new));
    }

    @Override
    public void close() throws Exception {
        if (stack != null) {
            attach("shutdown");
            stack.waitFor(20, TimeUnit.SECONDS);
            stack.destroyForcibly();
            Files.deleteIfExists(log);
        }
        for (String ns : namespaces) {
            Processes.run("ip", "netns", "del", ns);
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
