package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.cli.RunAccess;
import org.modnet.ebpf.impl.Assembler;
import org.modnet.ebpf.impl.Disassembler;

/** The assembler and disassembler agree; errors name their line; the command-line runner speaks the plugin protocol. */
class AssemblerTest {
    @Test
    void everyConformanceProgramSurvivesDisassemblyAndReassembly() throws Exception {
        Path dir = ConformanceTest.suite().resolve("tests");
        Assumptions.assumeTrue(Files.isDirectory(dir), "no conformance data at " + dir);
        int n = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".data")).toList()) {
                long[] insns = ConformanceTest.Case.read(f).program();
                String text = String.join("\n", Disassembler.disassemble(insns).stream().filter(java.util.Objects::nonNull).toList());
                assertArrayEquals(insns, Assembler.assemble(text), f.getFileName() + ":\n" + text);
                n++;
            }
        }
        assertTrue(n > 300);
    }

    @Test
    void mapReferencesSurviveDisassemblyAndReassembly() throws Exception {
        long[] insns = Assembler.assemble("ldmap %r1, 2\nldmapval %r2, 3, 16\nmov %r0, 0\nexit");
        assertEquals(java.util.Arrays.asList("ldmap %r1, 2", null, "ldmapval %r2, 3, 16", null, "mov %r0, 0", "exit"),
                Disassembler.disassemble(insns));
        assertArrayEquals(insns, Assembler.assemble(String.join("\n",
                Disassembler.disassemble(insns).stream().filter(java.util.Objects::nonNull).toList())));
    }

    @Test
    void errorsNameTheLine() {
        BpfException e = assertThrows(BpfException.class, () -> Assembler.assemble("mov %r0, 1\nor %r0, %r50\nexit"));
        assertEquals("line 2: invalid register %r50", e.getMessage());
        assertTrue(assertThrows(BpfException.class, () -> Assembler.assemble("mov32 %r0, 2147483648\nexit")).getMessage().contains("out of range"));
        assertTrue(assertThrows(BpfException.class, () -> Assembler.assemble("ja nowhere\nexit")).getMessage().contains("invalid label nowhere"));
        assertTrue(assertThrows(BpfException.class, () -> Assembler.assemble("ldxb %r0, [%r1+0x10000]\nexit")).getMessage().contains("offset out of range"));
        assertTrue(assertThrows(BpfException.class, () -> Assembler.assemble("")).getMessage().contains("no instructions"));
        assertTrue(assertThrows(BpfException.class, () -> Assembler.assemble("lock\nexit")).getMessage().contains("Invalid number of operands for lock"));
    }

    @Test
    void theRunnerSpeaksThePluginProtocol() throws Exception {
        assertEquals("2a\n", run("", "b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00", "--interpret")[0]);
        assertEquals("cc\n", run("aabbcc", "71 10 02 00 00 00 00 00 95 00 00 00 00 00 00 00", "--jit")[0]);
        String[] fault = run("aabbcc", "71 10 09 00 00 00 00 00 95 00 00 00 00 00 00 00", "--jit");
        assertEquals("1", fault[2]);
        assertTrue(fault[1].contains("invalid read of 1 bytes"), fault[1]);
        String[] refused = run("", "04 10 00 00 01 00 00 00 95 00 00 00 00 00 00 00", "--interpret");
        assertEquals("1", refused[2]);
        assertTrue(refused[1].contains("0: BPF_ALU uses reserved fields"), refused[1]);
        assertEquals("1", run("", "zz", "--jit")[2]);
        assertEquals("2", run("", "", "--bogus")[2]);
    }

    /** stdout, stderr, status. */
    private static String[] run(String memory, String program, String engine) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] args = memory.isEmpty() ? new String[] { engine } : new String[] { engine, memory };
        int status = RunAccess.run(args, new ByteArrayInputStream(program.getBytes(StandardCharsets.US_ASCII)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] { out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), String.valueOf(status) };
    }
}
