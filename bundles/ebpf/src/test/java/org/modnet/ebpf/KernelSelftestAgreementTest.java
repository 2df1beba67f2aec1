package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.ElfObject;
import org.modnet.ebpf.impl.Program;
import org.modnet.ebpf.impl.Verifier;

/**
 * The kernel's own verifier selftests ({@code tools/testing/selftests/bpf/progs/verifier_*.c} of Debian's
 * {@code linux-source-6.12}), compiled here by clang: every XDP and tc program's {@code __success} /
 * {@code __failure} annotation (privileged) is the verdict modnet must reach. Prints agreed, false-accept
 * and false-reject counts per file; a file clang 14 cannot build, or whose maps modnet lacks, is listed
 * as such. Runs where clang and the package are installed ({@code apt-get install linux-source-6.12}).
 */
class KernelSelftestAgreementTest {
    /** Socket filters' false accepts (none) and agreement floor (per cent): 242 of 243 (99.6%) when last raised. */
    private static final int SOCKET_FALSE_ACCEPTS = 0;
    private static final int SOCKET_AGREEMENT = 99;

    private static final Path TARBALL = Path.of("/usr/src/linux-source-6.12.tar.xz");
    private static final String PROGS = "linux-source-6.12/tools/testing/selftests/bpf/progs";

    record Case(String section, String function, boolean failure, List<String> messages) {
    }

    /** The annotated programs of one source file, in order: SEC, then annotations, then the function. */
    static List<Case> cases(String source) {
        List<Case> out = new ArrayList<>();
        String[] lines = source.split("\n");
        Pattern sec = Pattern.compile("^SEC\\(\"([^\"]+)\"\\)");
        Pattern msg = Pattern.compile("__msg\\(\"((?:[^\"\\\\]|\\\\.)*)\"\\)");
        Pattern name = Pattern.compile("(\\w+)\\s*\\(");
        StringBuilder before = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith("}")) {
                before.setLength(0);
                continue;
            }
            Matcher m = sec.matcher(line);
            if (!m.find()) {
                before.append(line).append('\n');
                continue;
            }
            StringBuilder notes = new StringBuilder(before);
            int k = i + 1;
            while (k < lines.length && (lines[k].startsWith("__") && !lines[k].startsWith("__naked") || lines[k].isBlank())) {
                notes.append(lines[k]).append('\n');
                k++;
            }
            if (k >= lines.length) {
                break;
            }
            String signature = lines[k].substring(0, lines[k].indexOf('(') < 0 ? lines[k].length() : lines[k].indexOf('(') + 1);
            Matcher n = name.matcher(signature);
            String function = null;
            while (n.find()) {
                function = n.group(1);
            }
            String text = notes.toString();
            if (function != null && !text.contains("__auxiliary") && !text.contains("BPF_F_STRICT_ALIGNMENT")) {
                // BPF_F_STRICT_ALIGNMENT is a load flag modnet does not take: such a test is not run
                List<String> messages = new ArrayList<>();
                Matcher mm = msg.matcher(text);
                while (mm.find()) {
                    messages.add(mm.group(1).replace("\\\"", "\"").replace("\\\\", "\\"));
                }
                out.add(new Case(m.group(1), function, Pattern.compile("\\b__failure\\b(?!_)").matcher(text).find(), messages));
            }
            before.setLength(0);
            i = k;
        }
        return out;
    }

    /**
     * The source as clang compiles it: its own {@code #if}s decided (programs behind {@code __clang_major__ >= 18}
     * or a {@code __TARGET_ARCH_} give way to their {@code #else}, as the kernel's runner sees them), comments
     * gone; the includes are left out so that {@code SEC} and the annotations stay as written.
     */
    static String compiled(Path f) throws Exception {
        String source = Files.readString(f);
        String noIncludes = source.lines().filter(l -> !l.startsWith("#include")).reduce("", (x, y) -> x + y + "\n");
        Process cpp = new ProcessBuilder("clang", "-E", "-P", "-target", "bpf", "-mcpu=v3", "-x", "c", "-").start();
        try (var in = cpp.getOutputStream()) {
            in.write(noIncludes.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        byte[] out = cpp.getInputStream().readAllBytes();
        cpp.getErrorStream().readAllBytes();
        return cpp.waitFor() == 0 ? new String(out, java.nio.charset.StandardCharsets.UTF_8) : source;
    }

    @Test
    void verdictsAgreeWithTheKernelSelftests() throws Exception {
        Assumptions.assumeTrue(ElfObjectTest.clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        Assumptions.assumeTrue(Files.isReadable(TARBALL), "needs linux-source-6.12 (apt-get install linux-source-6.12)");
        Path dir = Path.of("target", "kernel-selftests").toAbsolutePath();
        Path progs = dir.resolve(PROGS);
        if (!Files.isDirectory(progs)) {
            Files.createDirectories(dir);
            Process tar = new ProcessBuilder("tar", "-xJf", TARBALL.toString(), "-C", dir.toString(), "--wildcards",
                    PROGS + "/verifier_*.c", PROGS + "/*.h", "linux-source-6.12/tools/testing/selftests/bpf/*.h",
                    "linux-source-6.12/tools/include/*").inheritIO().start();
            assertTrue(tar.waitFor() == 0, "tar failed");
        }
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        List<Path> files;
        try (Stream<Path> s = Files.list(progs)) {
            files = s.filter(f -> f.getFileName().toString().matches("verifier_.*\\.c")).sorted().toList();
        }
        int agreed = 0;
        int socketAgreed = 0;
        int socketFalseAccepts = 0;
        int socketFalseRejects = 0;
        int falseAccepts = 0;
        int falseRejects = 0;
        int messagesMatched = 0;
        int refusals = 0;
        List<String> unbuilt = new ArrayList<>();
        Map<String, String> falseAccepted = new LinkedHashMap<>();
        Map<String, String> falseRejected = new LinkedHashMap<>();
        StringBuilder report = new StringBuilder("file: agreed / false-accept / false-reject (XDP and tc) [socket filters]\n");
        for (Path f : files) {
            List<Case> cases = cases(compiled(f)).stream()
                    .filter(c -> c.section().equals("xdp") || ProgType.ofSection(c.section()) == ProgType.SCHED_CLS
                            || ProgType.ofSection(c.section()) == ProgType.SOCKET_FILTER).toList();
            if (cases.isEmpty()) {
                continue;
            }
            String base = f.getFileName().toString().replace(".c", "");
            Path out = dir.resolve(base + ".o");
            Process cc = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I/usr/include/" + arch + "-linux-gnu",
                    "-I" + progs, "-I" + progs.getParent(), "-c", f.toString(), "-o", out.toString()).redirectErrorStream(true).start();
            cc.getInputStream().readAllBytes();
            if (cc.waitFor() != 0) {
                unbuilt.add(base + " (clang 14 cannot build it)");
                continue;
            }
            ElfObject o;
            List<BpfMapBase> maps;
            try {
                o = ElfObject.parse(Files.readAllBytes(out));
                maps = o.createMapsBase(1);
            } catch (BpfException e) {
                unbuilt.add(base + " (" + e.getMessage() + ")");
                continue;
            }
            int a = 0;
            int fa = 0;
            int fr = 0;
            int[] sock = new int[3];
            for (Case c : cases) {
                boolean socket = ProgType.ofSection(c.section()) == ProgType.SOCKET_FILTER;
                ElfObject.ProgramDef d = o.programs().stream().filter(p -> p.name().equals(c.function())).findFirst().orElse(null);
                if (d == null) {
                    unbuilt.add(base + ":" + c.function() + " (not in the object)"); // the annotations were misread: no verdict
                    continue;
                }
                String why = null;
                {
                    ProgType type = ProgType.ofSection(c.section());
                    try {
                        Verifier.verify(Program.of(d.name(), d.insns()).withNonScalarReturns(d.nonScalarReturns())
                                .withGlobalFuncs(d.globalFuncs()), type, maps,
                                type == ProgType.XDP ? HelperProtos.XDP : type == ProgType.SOCKET_FILTER ? HelperProtos.SOCKET_FILTER : HelperProtos.SCHED_CLS, false);
                    } catch (BpfException e) {
                        why = e.getMessage();
                    } catch (RuntimeException e) {
                        why = "crash: " + e;
                    }
                }
                if (socket) {
                    if (c.failure() == (why != null)) {
                        socketAgreed++;
                        sock[0]++;
                    } else if (c.failure()) {
                        socketFalseAccepts++;
                        sock[1]++;
                        falseAccepted.put("socket " + base + ":" + c.function(), String.join(" | ", c.messages()));
                    } else {
                        socketFalseRejects++;
                        sock[2]++;
                        falseRejected.put("socket " + base + ":" + c.function(), why);
                    }
                    continue;
                }
                if (c.failure() == (why != null)) {
                    a++;
                    if (why != null) {
                        refusals++;
                        String w = why;
                        if (c.messages().isEmpty() || c.messages().stream().anyMatch(w::contains)) {
                            messagesMatched++;
                        }
                    }
                } else if (c.failure()) {
                    fa++;
                    falseAccepted.put(base + ":" + c.function(), String.join(" | ", c.messages()));
                } else {
                    fr++;
                    falseRejected.put(base + ":" + c.function(), why);
                }
            }
            agreed += a;
            falseAccepts += fa;
            falseRejects += fr;
            report.append(base).append(": ").append(a).append(" / ").append(fa).append(" / ").append(fr);
            if (sock[0] + sock[1] + sock[2] > 0) {
                report.append(" [").append(sock[0]).append(" / ").append(sock[1]).append(" / ").append(sock[2]).append(']');
            }
            report.append('\n');
        }
        int total = agreed + falseAccepts + falseRejects;
        report.append("total: ").append(agreed).append(" agreed of ").append(total).append(String.format(" (%.1f%%)", 100.0 * agreed / total))
                .append(", ").append(falseAccepts).append(" false accepts, ").append(falseRejects).append(" false rejects; ")
                .append(messagesMatched).append(" of ").append(refusals).append(" agreed refusals with the kernel's message\n");
        int socketTotal = socketAgreed + socketFalseAccepts + socketFalseRejects;
        report.append("socket filters: ").append(socketAgreed).append(" agreed of ").append(socketTotal)
                .append(String.format(" (%.1f%%)", socketTotal == 0 ? 0.0 : 100.0 * socketAgreed / socketTotal)).append(", ")
                .append(socketFalseAccepts).append(" false accepts, ").append(socketFalseRejects).append(" false rejects\n");
        unbuilt.forEach(u -> report.append("not run: ").append(u).append('\n'));
        falseAccepted.forEach((k, v) -> report.append("false accept: ").append(k).append(" (kernel: ").append(v).append(")\n"));
        falseRejected.forEach((k, v) -> report.append("false reject: ").append(k).append(": ").append(v == null ? "" : v.lines().findFirst().orElse(""))
                .append('\n'));
        Files.writeString(dir.resolve("agreement.txt"), report);
        System.out.println(report);
        assertTrue(total > 0, "no program ran");
        assertTrue(falseAccepts == 0, "the kernel refuses what modnet loads:\n" + report);
        assertTrue(agreed * 100 >= 99 * total, "agreement fell below 99% (207 of 207 when last raised):\n" + report);
        // socket filters (issue 21): the kernel's refusals all refused, agreement held at what it reached
        assertTrue(socketTotal > 0, "no socket program ran");
        assertTrue(socketFalseAccepts <= SOCKET_FALSE_ACCEPTS, "more socket programs the kernel refuses load:\n" + report);
        assertTrue(socketAgreed * 100 >= SOCKET_AGREEMENT * socketTotal, "socket agreement fell:\n" + report);
    }
}
