package org.modnet.itests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs bin/modnet and other programs as a user would, with a time limit, and keeps what they printed. */
final class Processes {
    private Processes() {
    }

    record Result(int status, String out, String err) {
        @Override
        public String toString() {
            return "status " + status + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Path modnet() {
        return ModnetRuntime.root().resolve("bin/modnet");
    }

    /**
     * The run directory (MODNET_RUNDIR) of every instance and client these tests start: a private
     * temporary directory of this test run, never the /run/modnet of the machine's own instances.
     */
    static synchronized Path runDir() {
        if (runDir == null) {
            try {
                runDir = Files.createTempDirectory("modnet-it-run"); // 0700
                runDir.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return runDir;
    }

    private static Path runDir;

    static Result run(String... command) throws IOException, InterruptedException {
        return runWithInput(null, command);
    }

    /** Runs the command with {@code stdin} (null: none), waiting at most 60 s. */
    static Result runWithInput(String stdin, String... command) throws IOException, InterruptedException {
        return runWithEnv(Map.of(), stdin, command);
    }

    /** As {@link #runWithInput}, with these environment variables set too (MODNET_RUNDIR, say). */
    static Result runWithEnv(Map<String, String> env, String stdin, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("modnet-it", ".out");
        Path err = Files.createTempFile("modnet-it", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("MODNET_NO_BUILD", "1");
            pb.environment().put("MODNET_RUNDIR", runDir().toString());
            pb.environment().putAll(env);
            if (stdin == null) {
                pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            }
            Process p = pb.start();
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
                p.getOutputStream().close();
            }
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("timed out: " + String.join(" ", command));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Starts a long-running process with no stdin; its output goes to files the caller may read. */
    static Process start(Path log, String... command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().put("MODNET_NO_BUILD", "1");
        pb.environment().put("MODNET_RUNDIR", runDir().toString());
        return pb.start();
    }

    /** A process builder with this run's environment: MODNET_NO_BUILD, and the tests' MODNET_RUNDIR. */
    static ProcessBuilder builder(String... command) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("MODNET_NO_BUILD", "1");
        pb.environment().put("MODNET_RUNDIR", runDir().toString());
        return pb;
    }

    static boolean isRoot() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        } catch (IOException e) {
            return false;
        }
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
