package org.modnet.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.modnet.ebpf.api.BpfException;
import org.modnet.ebpf.api.HelperProtos;
import org.modnet.ebpf.api.ProgType;
import org.modnet.ebpf.impl.BpfMapBase;
import org.modnet.ebpf.impl.ElfObject;
import org.modnet.ebpf.impl.LoadedProgram;
import org.modnet.ebpf.impl.XdpBuffer;

/**
 * Objects built by Debian's clang: xdp_drop_icmp (a BTF-defined array map, a .text subprogram) loads,
 * verifies and drops ICMP on both engines, for ISA v1 and v3; broken files are refused with a reason.
 */
class ElfObjectTest {
    static boolean clang() {
        return java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "clang")));
    }

    /** Builds a test program with clang into target/; null when clang is not there. */
    static byte[] build(String source, String cpu) throws Exception {
        Path src = Path.of("src/test/resources/bpf", source).toAbsolutePath();
        Path out = Path.of("target", source.replace(".c", "-" + cpu + ".o")).toAbsolutePath();
        String arch = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).strip();
        Process p = new ProcessBuilder("clang", "-O2", "-g", "-target", "bpf", "-mcpu=" + cpu, "-I/usr/include/" + arch + "-linux-gnu",
                "-c", src.toString(), "-o", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "clang failed:\n" + log);
        return Files.readAllBytes(out);
    }

    @ParameterizedTest
    @ValueSource(strings = { "v1/interpreter", "v1/jit", "v3/interpreter", "v3/jit" })
    void xdpDropIcmpLoadsVerifiesAndDropsIcmp(String variant) throws Exception {
        Assumptions.assumeTrue(clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        String[] v = variant.split("/");
        ElfObject o = ElfObject.parse(build("xdp_drop_icmp.c", v[0]));
        assertEquals("GPL", o.license());
        assertEquals(1, o.maps().size());
        ElfObject.MapDef drops = o.maps().get(0);
        assertEquals(new ElfObject.MapDef("drops", 2, 4, 8, 1, 0), drops);
        ElfObject.ProgramDef prog = o.program("xdp");
        assertNotNull(prog);
        assertEquals("xdp_drop_icmp", prog.name());
        List<BpfMapBase> maps = new ArrayList<>();
        for (ElfObject.MapDef m : o.maps()) {
            maps.add(BpfMapBase.create(m.name(), m.type(), m.keySize(), m.valueSize(), m.maxEntries(), m.flags(), 1));
        }
        LoadedProgram p = LoadedProgram.load(prog.name(), prog.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps),
                v[1], false, null);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_DROP, x.run(p, XdpRunTest.frame(98, 1), XdpRunTest.HEADROOM, 98, 1, 0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, XdpRunTest.frame(20, 1), XdpRunTest.HEADROOM, 20, 1, 0));
        assertEquals(1L, java.nio.ByteBuffer.wrap(maps.get(0).lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
    }

    @ParameterizedTest
    @ValueSource(strings = { "interpreter", "jit" })
    void globalDataSectionsAreMapsTheProgramReadsAndWrites(String engine) throws Exception {
        Assumptions.assumeTrue(clang(), "needs clang and libbpf-dev (.ci/run installs them)");
        ElfObject o = ElfObject.parse(build("global_data.c", "v3"));
        assertTrue(o.maps().stream().anyMatch(m -> m.name().equals(".rodata")), o.maps().toString());
        assertTrue(o.maps().stream().anyMatch(m -> m.name().equals(".bss")), o.maps().toString());
        assertTrue(o.maps().stream().allMatch(m -> m.name().equals(".rodata") == ((m.flags() & BpfMapBase.BPF_F_RDONLY_PROG) != 0)),
                ".rodata, and only it, is read-only to programs: " + o.maps());
        List<BpfMapBase> maps = o.createMapsBase(1);
        List<String> trace = new ArrayList<>();
        ElfObject.ProgramDef prog = o.program("xdp");
        LoadedProgram p = LoadedProgram.load(prog.name(), prog.insns(), ProgType.XDP, maps, HelperProtos.XDP, XdpBuffer.helpers(maps),
                engine, false, trace::add);
        XdpBuffer x = new XdpBuffer(p.memory(0));
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 0), "the const verdict");
        assertEquals(XdpBuffer.XDP_PASS, x.run(p, XdpRunTest.frame(60, 17), XdpRunTest.HEADROOM, 60, 1, 0));
        assertEquals(List.of("frame 1", "frame 2"), trace, "the format string came from .rodata, the counter lives in .bss");
        BpfMapBase bss = maps.stream().filter(m -> m.name().equals(".bss")).findFirst().orElseThrow();
        assertEquals(2L, java.nio.ByteBuffer.wrap(bss.lookup(new byte[4])).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
    }

    @Test
    void brokenObjectsAreRefusedWithAReason() throws Exception {
        assertTrue(assertThrows(BpfException.class, () -> ElfObject.parse(new byte[0])).getMessage().contains("not an ELF file"));
        byte[] junk = new byte[4096];
        new Random(3).nextBytes(junk);
        assertTrue(assertThrows(BpfException.class, () -> ElfObject.parse(junk)).getMessage().contains("not an ELF file"));
        Assumptions.assumeTrue(clang(), "needs clang for a real object to break");
        byte[] good = build("xdp_drop_icmp.c", "v3");
        byte[] x86 = good.clone();
        x86[18] = 62;
        assertTrue(assertThrows(BpfException.class, () -> ElfObject.parse(x86)).getMessage().contains("e_machine 62"));
        for (int len = 0; len < good.length; len += 97) {
            byte[] cut = java.util.Arrays.copyOf(good, len);
            try {
                ElfObject.parse(cut);
            } catch (BpfException e) {
                assertTrue(!e.getMessage().isBlank());
            }
        }
        Random r = new Random(11);
        for (int i = 0; i < 300; i++) {
            byte[] bad = good.clone();
            for (int k = 0; k < 4; k++) {
                bad[r.nextInt(bad.length)] = (byte) r.nextInt();
            }
            try {
                ElfObject.parse(bad); // many flips land in debug data and change nothing
            } catch (BpfException e) {
                assertTrue(!e.getMessage().isBlank());
            }
        }
    }
}
