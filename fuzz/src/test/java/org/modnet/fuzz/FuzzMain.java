package org.modnet.fuzz;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one fuzz target under Jazzer in a JVM of its own (libFuzzer runs once per process):
 * {@code FuzzMain TARGET SECONDS [WORKDIR]}. The target's regression corpus (from the class path) seeds
 * a working corpus in WORKDIR/corpus/TARGET, where Jazzer also keeps what it finds new; a finding is
 * written to WORKDIR/findings/TARGET/. Prints executions and findings and exits 0 only without findings.
 */
public final class FuzzMain {
    /** The targets by name. */
    public static final Map<String, Class<?>> TARGETS = Map.of(
            "frames", FrameFuzzer.class,
            "elf", ElfFuzzer.class,
            "parsers", ParserFuzzer.class,
            "tcp", TcpFuzzer.class);

    /** What one run did. */
    public record Result(String target, int exitCode, long executions, long seconds, int findings, String log, Path logFile) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !TARGETS.containsKey(args[0])) {
            System.err.println("usage: modnet-fuzz TARGET SECONDS   (TARGET: " + String.join(", ", new java.util.TreeSet<>(TARGETS.keySet())) + ")");
            System.exit(2);
        }
        Path work = Path.of(args.length > 2 ? args[2] : "target/fuzz");
        Result r = run(args[0], Long.parseLong(args[1]), work, true);
        System.out.println("modnet-fuzz: " + r.target() + ": " + r.executions() + " executions in " + r.seconds() + " s, "
                + r.findings() + " finding(s)" + (r.findings() > 0 ? " (in " + work.resolve("findings").resolve(r.target()) + ")" : "")
                + "; log " + r.logFile());
        System.exit(r.findings() == 0 && r.exitCode() == 0 ? 0 : 1);
    }

    /** Fuzzes {@code target} for {@code seconds} in a child JVM. */
    public static Result run(String target, long seconds, Path work, boolean echo) throws IOException, InterruptedException {
        Path corpus = work.resolve("corpus").resolve(target).toAbsolutePath();
        Path findings = work.resolve("findings").resolve(target).toAbsolutePath();
        Files.createDirectories(corpus);
        if (Files.isDirectory(findings)) {
            try (var old = Files.list(findings)) {
                for (Path f : old.toList()) {
                    Files.delete(f); // an earlier run's: this run reports its own
                }
            }
        }
        Files.createDirectories(findings);
        for (String name : seeds(target)) {
            try (InputStream in = FuzzMain.class.getResourceAsStream("/corpus/" + target + "/" + name)) {
                Files.copy(in, corpus.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Path log = work.resolve(target + ".log").toAbsolutePath();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "-Dmodnet.fuzz.noleakcheck=" + Boolean.getBoolean("modnet.fuzz.noleakcheck"), "-Xmx3g", "-Xss8m", "--enable-native-access=ALL-UNNAMED",
                "-XX:+EnableDynamicAgentLoading", "--sun-misc-unsafe-memory-access=allow", "-cp", cp,
                "com.code_intelligence.jazzer.Jazzer",
                "--target_class=" + TARGETS.get(target).getName(),
                "--instrumentation_includes=org.modnet.**",
                "--custom_hook_includes=org.modnet.**", // the comparison hooks and sanitizers on our code only: a faster start
                "--reproducer_path=" + findings,
                seconds > 0 ? "-max_total_time=" + seconds : "-runs=0",
                "-timeout=30",
                "-rss_limit_mb=4096",
                "-print_final_stats=1",
                "-artifact_prefix=" + findings + "/",
                corpus.toString()));
        if (target.equals("frames")) {
            // long inputs from the start: many frames per execution, so the frames go in by the million
            cmd.addAll(cmd.size() - 1, List.of("-len_control=0", "-max_len=8192"));
        }
        long started = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        int code = p.waitFor();
        String text = Files.readString(log);
        long execs = 0;
        long secs = (System.nanoTime() - started) / 1_000_000_000L;
        Matcher done = Pattern.compile("stat::number_of_executed_units: *(\\d+)").matcher(text); // also after a finding
        while (done.find()) {
            execs = Long.parseLong(done.group(1));
        }
        int found = 0;
        try (var s = Files.list(findings)) {
            found = (int) s.filter(f -> f.getFileName().toString().startsWith("crash-") || f.getFileName().toString().startsWith("timeout-")
                    || f.getFileName().toString().startsWith("oom-") || f.getFileName().toString().startsWith("leak-")).count();
        }
        if (code != 0 && found == 0) {
            found = 1; // it ended on something that left no input behind (an error in setup, a crash of the JVM)
        }
        if (echo) {
            text.lines().filter(l -> l.startsWith("modnet-fuzz") || l.contains("== Java Exception") || l.contains("FuzzerSecurityIssue")
                    || l.startsWith("Done ") || l.contains("stat::number_of_executed_units")).forEach(System.out::println);
        }
        return new Result(target, code, execs, secs, found, text, log);
    }

    /** The names of the checked-in corpus files of a target (listed in corpus/TARGET/index). */
    static List<String> seeds(String target) throws IOException {
        try (InputStream in = FuzzMain.class.getResourceAsStream("/corpus/" + target + "/index")) {
            if (in == null) {
                return List.of();
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty()).toList();
        }
    }

    /** The bytes of one seed. */
    static byte[] seed(String target, String name) throws IOException {
        try (InputStream in = FuzzMain.class.getResourceAsStream("/corpus/" + target + "/" + name)) {
            return in.readAllBytes();
        }
    }
}
