package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.BpfFault;
import org.modnet.ebpf.api.Helpers;
import org.modnet.ebpf.impl.Assembler;
import org.modnet.ebpf.impl.Engines;
import org.modnet.ebpf.impl.Executable;
import org.modnet.ebpf.impl.Memory;
import org.modnet.ebpf.impl.Program;

/**
 * The bpf_conformance suite, read where it lies ({@code ../shared/ebpf-conformance}, the
 * {@code modnet.ebpf.conformance} property): every test in {@code tests/} must give its result on
 * each engine, and every case in {@code negative/} must be refused or give a different result.
 */
class ConformanceTest {
    private static final Map<String, AtomicInteger> COUNTS = new LinkedHashMap<>();

    static Path suite() {
        String dir = System.getProperty("modnet.ebpf.conformance", "../../shared/ebpf-conformance");
        return Paths.get(dir).toAbsolutePath().normalize();
    }

    /** One data file: its sections by name ("asm", "raw", "mem", "result", "error"). */
    record Case(String name, Map<String, String> sections) {
        static Case read(Path file) throws IOException {
            Map<String, String> sections = new LinkedHashMap<>();
            String current = null;
            StringBuilder b = new StringBuilder();
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith("-- ")) {
                    if (current != null) {
                        sections.put(current, b.toString());
                    }
                    current = line.substring(3).strip();
                    b.setLength(0);
                } else if (current != null) {
                    b.append(line).append('\n');
                }
            }
            if (current != null) {
                sections.put(current, b.toString());
            }
            return new Case(file.getFileName().toString(), sections);
        }

        long[] program() throws BpfException {
            String raw = sections.get("raw");
            if (raw != null) {
                List<Long> out = new ArrayList<>();
                for (String line : raw.split("\n")) {
                    String t = line.replaceAll("#.*", "").strip();
                    if (t.isEmpty()) {
                        continue;
                    }
                    if (t.startsWith("0x")) {
                        out.add(Long.parseUnsignedLong(t.substring(2), 16));
                    } else {
                        String[] bytes = t.split("\\s+"); // eight bytes in memory order
                        long v = 0;
                        for (int i = 0; i < bytes.length; i++) {
                            v |= (Long.parseLong(bytes[i], 16) & 0xff) << (8 * i);
                        }
                        out.add(v);
                    }
                }
                return out.stream().mapToLong(Long::longValue).toArray();
            }
            String asm = sections.get("asm");
            if (asm == null) {
                throw new BpfException("no program");
            }
            return Assembler.assemble(asm);
        }

        byte[] memory() {
            String mem = sections.getOrDefault("mem", "").replaceAll("#.*", "").strip();
            if (mem.isEmpty()) {
                return new byte[0];
            }
            String[] hex = mem.split("\\s+");
            byte[] b = new byte[hex.length];
            for (int i = 0; i < hex.length; i++) {
                b[i] = (byte) Integer.parseInt(hex[i], 16);
            }
            return b;
        }

        Long result() {
            String r = sections.get("result");
            if (r == null || r.strip().isEmpty()) {
                return null;
            }
            String t = r.strip();
            return t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
        }
    }

    /** The suite's helpers: 5 is "unwind", which returns its argument and ends the program on 0. */
    static Helpers helpers() {
        return new Helpers().register(5, "unwind", (r1, r2, r3, r4, r5, m) -> r1, true);
    }

    /** Runs a case on an engine; returns r0, or throws what refused it. */
    static long run(Case c, String engine) throws BpfException {
        Program p = Program.of(c.name(), c.program());
        Executable e = Engines.byName(engine, p, helpers());
        Memory memory = new Memory();
        byte[] mem = c.memory();
        long r1 = 0;
        if (mem.length > 0) {
            long[] words = new long[(mem.length + 7) / 8];
            MemorySegment seg = MemorySegment.ofArray(words).asSlice(0, mem.length);
            MemorySegment.copy(mem, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, mem.length);
            r1 = memory.set(Memory.FIRST_FREE, seg, true);
        }
        try {
            return e.run(memory, r1, mem.length);
        } catch (BpfFault f) {
            throw new BpfException(f.getMessage());
        }
    }

    private static List<Path> files(String folder) throws IOException {
        Path dir = suite().resolve(folder);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".data")).sorted().toList();
        }
    }

    private static void count(String key) {
        synchronized (COUNTS) {
            COUNTS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        }
    }

    @TestFactory
    Stream<DynamicTest> everyTestGivesItsResult() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String engine : Engines.NAMES) {
            for (Path f : files("tests")) {
                tests.add(DynamicTest.dynamicTest(engine + ": " + f.getFileName(), () -> {
                    Case c = Case.read(f);
                    Long expected = c.result();
                    if (c.sections().containsKey("error")) {
                        assertThrowsBpf(c, engine);
                    } else {
                        assertEquals(expected == null ? 0 : expected, run(c, engine),
                                () -> c.name() + " on the " + engine);
                    }
                    count("tests passed (" + engine + ")");
                }));
            }
        }
        return orSkipped(tests, "tests");
    }

    @TestFactory
    Stream<DynamicTest> everyNegativeCaseIsRefused() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (String engine : Engines.NAMES) {
            for (Path f : files("negative")) {
                tests.add(DynamicTest.dynamicTest(engine + ": " + f.getFileName(), () -> {
                    Case c = Case.read(f);
                    boolean refused;
                    try {
                        long r0 = run(c, engine);
                        Long expected = c.result();
                        refused = expected == null || expected != r0 || c.sections().containsKey("error");
                    } catch (BpfException e) {
                        refused = true;
                    }
                    assertTrue(refused, c.name() + " was accepted and gave its result on the " + engine);
                    count("negative cases refused (" + engine + ")");
                }));
            }
        }
        return orSkipped(tests, "negative");
    }

    /**
     * The tests, or where the suite is absent one test that is skipped with the reason: an assumption
     * failing in the factory itself leaves the report at "0 tests" with no reason shown.
     */
    private static Stream<DynamicTest> orSkipped(List<DynamicTest> tests, String folder) {
        if (!tests.isEmpty()) {
            return tests.stream();
        }
        Path dir = suite().resolve(folder);
        return Stream.of(DynamicTest.dynamicTest("the conformance suite", () -> Assumptions.assumeTrue(false,
                "skipped: the eBPF conformance data is not at " + dir + " (set -Dmodnet.ebpf.conformance)")));
    }

    private static void assertThrowsBpf(Case c, String engine) {
        try {
            run(c, engine);
        } catch (BpfException e) {
            return;
        }
        throw new AssertionError(c.name() + " should have been refused on the " + engine);
    }

    @AfterAll
    static void report() {
        synchronized (COUNTS) {
            COUNTS.forEach((k, v) -> System.out.println("bpf_conformance: " + v.get() + " " + k));
        }
    }
}
